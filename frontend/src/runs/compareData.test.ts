import { completeRows, numericColumns, overlay } from "./compareData";
import type { CompareResult, History } from "./types";

const result = {
  runs: [],
  attributes: [],
  params: [
    { key: "lr", values: ["0.1", "0.01", null], all_equal: false },
    { key: "opt", values: ["adam", "sgd", "adam"], all_equal: false },
    { key: "seed", values: ["1", "1", "1"], all_equal: true },
  ],
  metrics: [{ key: "val.acc", values: [{ latest: 0.5 }, { latest: 0.7 }, { latest: 0.9 }], all_equal: false }],
} as unknown as CompareResult;

describe("numericColumns", () => {
  it("keeps varying numeric params and metrics' latest values", () => {
    const { params, metrics } = numericColumns(result);
    expect(params).toEqual([{ key: "lr", values: [0.1, 0.01, null] }]);
    expect(metrics).toEqual([{ key: "val.acc", values: [0.5, 0.7, 0.9] }]);
    expect(completeRows([...params, ...metrics])).toEqual([0, 1]);
  });
});

describe("overlay", () => {
  const h = (run: string, step: number[], value: number[]): History => ({
    key: "train.loss",
    run,
    count: step.length,
    downsampled: false,
    step,
    epoch: step.map(() => null),
    timestamp: step,
    value,
    min: null,
    max: null,
  });
  it("puts each run's series in its own slot on one x", () => {
    const charts = overlay([h("b", [1, 2], [5, 6]), h("a", [0, 2], [1, 2])], ["a", "b"], "step", { smoothing: 0, log: false });
    expect(charts.get("train.loss")).toEqual({
      data: [
        [0, 1, 2],
        [1, undefined, 2],
        [undefined, 5, 6],
      ],
      runs: [0, 1],
    });
  });
});

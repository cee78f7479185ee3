import { alignSeries, cellText, ema, groupByName, numericOrCategories, shapeHistory, stageOf, stagesChart, uplotData, visibleRows } from "./chartData";
import type { History } from "./types";

const history = (over: Partial<History> = {}): History => ({
  key: "train.loss",
  count: 4,
  downsampled: false,
  step: [0, 10, 20, 30],
  epoch: [0, 0, 1, null],
  timestamp: [1000, 1001.5, 1003, 1010],
  value: [4, 3, 2, 1],
  min: null,
  max: null,
  ...over,
});

describe("shapeHistory", () => {
  it("uses steps, epochs (dropping points without one), relative and wall time", () => {
    expect(shapeHistory(history(), "step")).toEqual({ x: [0, 10, 20, 30], y: [4, 3, 2, 1], lo: null, hi: null });
    expect(shapeHistory(history(), "epoch")).toMatchObject({ x: [0, 0, 1], y: [4, 3, 2] });
    expect(shapeHistory(history(), "relative").x).toEqual([0, 1.5, 3, 10]);
    expect(shapeHistory(history(), "wall").x).toEqual([1000, 1001.5, 1003, 1010]);
  });

  it("sorts epochs that come out of order and turns NaN into gaps", () => {
    const shaped = shapeHistory(history({ epoch: [2, 1, 0, 3], value: [1, NaN, 3, 4] }), "epoch");
    expect(shaped.x).toEqual([0, 1, 2, 3]);
    expect(shaped.y).toEqual([3, null, 1, 4]);
  });

  it("keeps the nulls the server sends for NaN and infinities as gaps, in the line and its band", () => {
    const h = history({ downsampled: true, value: [4, null, 2, 1], min: [3, null, 1, 0], max: [5, null, 3, 2] });
    const { data } = uplotData(shapeHistory(h, "step"), { smoothing: 0.5, log: false });
    expect(data[1][1]).toBeNull();
    expect([data[2][1], data[3][1]]).toEqual([null, null]);
    const aligned = alignSeries([{ x: [0, 10, 20], y: [1, null, 3] }, { x: [5], y: [7] }]);
    expect(aligned[1]).toEqual([1, undefined, null, 3]); // a gap of its own stays; another run's x is spanned
  });

  it("carries the min/max band of a downsampled series", () => {
    const h = history({ downsampled: true, count: 1_000_000, min: [3, 2, 1, 0], max: [5, 4, 3, 2] });
    const shaped = shapeHistory(h, "step");
    expect(shaped.lo).toEqual([3, 2, 1, 0]);
    expect(shaped.hi).toEqual([5, 4, 3, 2]);
    const { data, band } = uplotData(shaped, { smoothing: 0, log: false });
    expect(band).toBe(true);
    expect(data).toEqual([[0, 10, 20, 30], [4, 3, 2, 1], [3, 2, 1, 0], [5, 4, 3, 2]]);
    expect(uplotData(shapeHistory(history(), "step"), { smoothing: 0, log: false })).toEqual({
      data: [[0, 10, 20, 30], [4, 3, 2, 1]],
      band: false,
    });
  });
});

describe("smoothing and log scale", () => {
  it("is the identity at 0 and a debiased EMA above, skipping gaps", () => {
    expect(ema([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = ema([10, null, 10, 20], 0.5);
    expect(s[0]).toBeCloseTo(10); // debiased: the first point is itself
    expect(s[1]).toBeNull();
    expect(s[2]).toBeCloseTo(10);
    expect(s[3]).toBeCloseTo((0.25 * 10 + 0.5 * 20 + 0.125 * 10 / 1) / (1 - 0.125), 5);
  });

  it("turns values a log axis cannot show into gaps", () => {
    const { data } = uplotData({ x: [0, 1, 2], y: [1, 0, -1], lo: null, hi: null }, { smoothing: 0, log: true });
    expect(data[1]).toEqual([1, null, null]);
  });

  // How fast is a question for a benchmark, not for a unit test on a shared machine (it failed at 2.5 s
  // under load); this checks that a million points come through whole, in one pass, without a stack overflow.
  it("shapes a million points (after the server's downsampling there are far fewer)", () => {
    const n = 1_000_000;
    const h = history({ count: n, step: [], epoch: [], timestamp: [], value: [] });
    for (let i = 0; i < n; i++) {
      h.step.push(i);
      h.epoch.push(null);
      h.timestamp.push(i / 10);
      h.value.push(Math.sin(i / 1000));
    }
    const { data, band } = uplotData(shapeHistory(h, "relative"), { smoothing: 0.9, log: false });
    expect(band).toBe(false);
    expect(data[0]).toHaveLength(n);
    expect(data[1]).toHaveLength(n);
    expect(data[0][n - 1]).toBeCloseTo((n - 1) / 10);
    expect(Number.isFinite(data[1][n - 1] as number)).toBe(true);
  }, 60_000);
});

describe("alignSeries", () => {
  it("merges several runs onto one ascending x with gaps", () => {
    expect(
      alignSeries([
        { x: [0, 2, 4], y: [1, 2, 3] },
        { x: [1, 2, 5], y: [10, 20, 30] },
      ]),
    ).toEqual([
      [0, 1, 2, 4, 5],
      [1, undefined, 2, 3, undefined],
      [undefined, 10, 20, undefined, 30],
    ]);
    expect(alignSeries([])).toEqual([[]]);
  });
});

describe("compare helpers", () => {
  const rows = [
    { key: "lr", values: ["0.1", "0.1"], all_equal: true },
    { key: "opt", values: ["adam", "sgd"], all_equal: false },
  ];
  it("hides rows on which every run agrees", () => {
    expect(visibleRows(rows, true).map((r) => r.key)).toEqual(["opt"]);
    expect(visibleRows(rows, false)).toHaveLength(2);
  });

  it("shows metric summaries by their latest value", () => {
    expect(cellText({ count: 3, latest: 0.123456, min: 0, max: 1 })).toBe("0.12346");
    expect(cellText(null)).toBe("—");
    expect(cellText(1e-7)).toBe("1.000e-7");
    expect(cellText(12000)).toBe("12,000");
  });

  it("groups metrics by stage", () => {
    expect(["train.loss", "val.acc", "test.f1", "lr", "eval2.x"].map(stageOf)).toEqual(["train", "val", "test", "other", "other"]);
  });

  it("tells numeric params from categories", () => {
    expect(numericOrCategories(["1", 2, null])).toEqual({ numbers: [1, 2, null] });
    expect(numericOrCategories(["adam", "1"])).toEqual({ categories: ["adam", "1"] });
  });
});

describe("stages on one chart", () => {
  const hist = (key: string, value: number[], extra: Partial<History> = {}): History => ({
    key,
    count: value.length,
    downsampled: false,
    step: value.map((_, i) => i * 10),
    epoch: value.map(() => null),
    timestamp: value.map((_, i) => 1000 + i),
    value,
    min: null,
    max: null,
    ...extra,
  });

  it("groups train, val and test of a name, in that order", () => {
    expect(groupByName(["val.loss", "train.loss", "test.accuracy", "train.accuracy", "lr"])).toEqual([
      ["accuracy", ["train.accuracy", "test.accuracy"]],
      ["loss", ["train.loss", "val.loss"]],
      ["lr", ["lr"]],
    ]);
  });

  it("draws each stage on a shared x, and keeps the raw curve behind a smoothed one", () => {
    const train = hist("train.loss", [4, 2, 1]);
    const val = hist("val.loss", [3, 1.5, 1.2]);
    const plain = stagesChart([train, val], "step", { smoothing: 0, log: false });
    expect(plain.lines.map((l) => [l.label, l.raw])).toEqual([
      ["train.loss", false],
      ["val.loss", false],
    ]);
    expect(plain.data[0]).toEqual([0, 10, 20]);
    const smooth = stagesChart([train, val], "step", { smoothing: 0.6, log: false });
    expect(smooth.lines.map((l) => [l.label, l.raw, l.slot])).toEqual([
      ["train.loss (raw)", true, 0],
      ["train.loss", false, 0],
      ["val.loss (raw)", true, 1],
      ["val.loss", false, 1],
    ]);
    expect(smooth.data[1]).toEqual([4, 2, 1]); // the raw values, unchanged
    expect(smooth.data[2]).not.toEqual([4, 2, 1]);
  });

  it("keeps a lone downsampled series' band and dots a metric logged once", () => {
    const banded = hist("train.loss", [2, 1], { downsampled: true, min: [1.5, 0.5], max: [2.5, 1.5] });
    expect(stagesChart([banded], "step", { smoothing: 0, log: false }).band).toBe(true);
    const once = stagesChart([hist("test.accuracy", [0.9])], "step", { smoothing: 0.5, log: false });
    expect(once.lines).toEqual([{ label: "test.accuracy", slot: 0, raw: false, dots: true }]);
  });
});

import { describe, expect, it } from "vitest";
import type { Charts } from "./api";
import { durationSeries, flattenParams, orderFor, paramKeys, parallelDimensions, progressFractions, topTrials } from "./trialStats";

const charts: Charts = {
  objective: { metric: "acc", goal: "maximize" },
  values: { trial: [0, 1, 3], value: [0.5, 0.9, 0.7], best_so_far: [0.5, 0.9, 0.9] },
  parallel: {
    trial: [0, 1, 2, 3],
    status: ["Succeeded", "Succeeded", "Pruned", "Succeeded"],
    params: { lr: [0.1, 0.01, 0.3, 0.05], opt: [{ name: "adam" }, { name: "sgd" }, { name: "adam" }, { name: "sgd" }] },
    value: [0.5, 0.9, null, 0.7],
  },
  durations: { trial: [0, 1, 2, 3], status: ["Succeeded", "Succeeded", "Pruned", "Succeeded"], seconds: [10, 20, 5, null] },
};

describe("trial stats", () => {
  it("flattens nested parameters to the filter language's dotted keys", () => {
    expect(flattenParams({ lr: 0.1, opt: { name: "adam", beta: { one: 0.9 } } })).toEqual({ lr: 0.1, "opt.name": "adam", "opt.beta.one": 0.9 });
    expect(paramKeys(charts)).toEqual(["lr", "opt.name"]);
  });

  it("keeps the best share of trials by the goal", () => {
    expect(topTrials(charts, "maximize", 100)).toEqual([0, 1, 2, 3]);
    expect(topTrials(charts, "maximize", 34)).toEqual([1, 3]); // ceil(3 × 34%) = 2: 0.9 and 0.7
    expect(topTrials(charts, "minimize", 10)).toEqual([0]); // always at least one
    expect(topTrials({ ...charts, parallel: { ...charts.parallel, value: [null, null, null, null] } }, "maximize", 10)).toEqual([]);
  });

  it("builds parallel-coordinate dimensions: numbers as numbers, text as categories, the objective last", () => {
    const dims = parallelDimensions(charts, ["lr", "opt.name"], [0, 1, 3]);
    expect(dims[0]).toEqual({ label: "lr", values: [0.1, 0.01, 0.05] });
    expect(dims[1]).toEqual({ label: "opt.name", values: [0, 1, 1], tickvals: [0, 1], ticktext: ["adam", "sgd"] });
    expect(dims[2]).toEqual({ label: "acc", values: [0.5, 0.9, 0.7] });
  });

  it("measures progress against the limits, and not without them", () => {
    const progress = { trials: 5, by_status: { Succeeded: 3, Pruned: 1, Running: 1 }, max_trial_num: 8, elapsed_seconds: 90, max_exec_seconds: 60 };
    expect(progressFractions(progress)).toEqual({ trials: 0.5, time: 1 });
    expect(progressFractions({ ...progress, max_trial_num: null, max_exec_seconds: null })).toEqual({ trials: null, time: null });
  });

  it("writes order_by", () => {
    expect(orderFor("metrics.value", true)).toBe("metrics.value DESC");
    expect(orderFor("params.lr", false)).toBe("params.lr ASC");
  });
});

describe("durations", () => {
  it("splits durations by status so each line joins trials of one status", () => {
    expect(durationSeries(charts)).toEqual({
      labels: ["Succeeded", "Pruned"],
      data: [
        [0, 1, 2, 3],
        [10, 20, undefined, null],
        [undefined, undefined, 5, undefined],
      ],
    });
  });
});

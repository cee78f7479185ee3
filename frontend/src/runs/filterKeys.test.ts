import { describe, expect, it } from "vitest";
import { complete, unknownKeys, type KnownKeys } from "./filterKeys";

const keys: KnownKeys = {
  attributes: ["duration", "name", "start_time", "status"],
  params: ["model.hidden", "optimizer.lr", "my key"],
  metrics: ["train.loss", "val.accuracy", "val.loss"],
  tags: ["team"],
  truncated: false,
};

describe("complete", () => {
  it("offers the prefixes for a bare word", () => {
    expect(complete("me", 2, keys)?.options.map((o) => o.insert)).toEqual(["metrics."]);
  });
  it("offers keys that contain what is typed after a prefix, those starting with it first", () => {
    const text = "params.lr > 0.1 AND metrics.val";
    const got = complete(text, text.length, keys);
    expect(got?.options.map((o) => o.insert)).toEqual(["metrics.val.accuracy", "metrics.val.loss"]);
    expect(got?.start).toBe(text.indexOf("metrics.val"));
    expect(complete("metrics.loss", 12, keys)?.options.map((o) => o.label)).toEqual(["metrics.train.loss", "metrics.val.loss"]);
  });
  it("backticks keys that need it, and knows nothing without keys", () => {
    expect(complete("params.my", 9, keys)?.options[0].insert).toBe("params.`my key`");
    expect(complete("params.", 7, null)).toBeNull();
    expect(complete("x = 1 AND ", 10, keys)).toBeNull();
  });
});

describe("unknownKeys", () => {
  it("names the keys no run has", () => {
    expect(unknownKeys("metrics.val.acc > 0.9 AND params.optimizer.lr < 1 AND tags.team = 'x'", keys)).toEqual([
      "metrics.val.acc",
    ]);
    expect(unknownKeys("params.`my key` = 1 AND attributes.status = 'Complete'", keys)).toEqual([]);
  });
  it("says nothing when the key lists were cut short", () => {
    expect(unknownKeys("metrics.nope > 1", { ...keys, truncated: true })).toEqual([]);
  });
});

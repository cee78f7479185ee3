import { describe, expect, it } from "vitest";
import { runsEn } from "./strings";

describe("the runs count", () => {
  it("names an exact count", () => {
    expect(runsEn.list.count(1, 1)).toBe("1 run");
    expect(runsEn.list.count(10_000, 10_000)).toBe("10,000 runs");
    expect(runsEn.list.count(3, 10)).toBe("3 of 10 runs");
  });

  it("says a count the server stopped at is a floor", () => {
    expect(runsEn.list.count(1000, 1000, false)).toBe("1,000+ runs");
  });

  it("says nothing before the first page", () => {
    expect(runsEn.list.count(0, null, false)).toBe("");
  });
});

import { describe, expect, it } from "vitest";
import { parseLabels } from "./format";
import { browseHref, nodeHref, pathFromBrowse } from "./links";

describe("browse addresses", () => {
  it("round-trip node paths with spaces, slashes encoded and unicode", () => {
    for (const path of ["/alice", "/alice/a b/c", "/alice/über/50%", "/alice/#1?x"]) {
      expect(pathFromBrowse(browseHref(path))).toBe(path);
    }
    expect(browseHref("/alice/a b")).toBe("/browse/alice/a%20b");
  });

  it("open runs on their page and shortcuts at their target", () => {
    expect(nodeHref({ id: "r1", kind: "Run", path: "/alice/r" })).toBe("/runs/r1");
    const target = { id: "f1", name: "f", kind: "Folder" as const, path: "/bob/f" };
    expect(nodeHref({ id: "s1", kind: "Shortcut", path: "/alice/s", target })).toBe("/browse/bob/f");
    expect(nodeHref({ id: "s2", kind: "Shortcut", path: "/alice/s", target: null })).toBe("/browse/alice/s");
  });
});

describe("parseLabels", () => {
  it("splits on commas, trims, drops blanks and repeats", () => {
    expect(parseLabels(" a, b,,a , c ")).toEqual(["a", "b", "c"]);
    expect(parseLabels("")).toEqual([]);
  });
});

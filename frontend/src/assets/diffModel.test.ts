import { describe, expect, it } from "vitest";
import type { Diff } from "./api";
import { diffRows, filterRows, isEmpty, refText, signedBytes } from "./diffModel";

const diff: Diff = {
  from: { kind: "tag", name: "v1", commit: "1111111111aaaa" },
  to: { kind: "branch", name: "main", commit: "2222222222bbbb" },
  summary: { added: 1, changed: 1, removed: 1, bytes_added: 5, bytes_removed: 7, bytes_changed: -2 },
  added: [{ path: "z/new.txt", size: 5, sha256: "n" }],
  changed: [{ path: "b/weights.bin", size: 8, sha256: "w2", old_size: 10, old_sha256: "w1" }],
  removed: [{ path: "a/old.txt", size: 7, sha256: "o" }],
};

describe("diff view model", () => {
  it("lists every differing path once, in path order, with its size change", () => {
    expect(diffRows(diff)).toEqual([
      { path: "a/old.txt", change: "removed", oldSize: 7, size: null, delta: -7 },
      { path: "b/weights.bin", change: "changed", oldSize: 10, size: 8, delta: -2 },
      { path: "z/new.txt", change: "added", oldSize: null, size: 5, delta: 5 },
    ]);
  });

  it("filters by kind of change, showing all when none is chosen", () => {
    const rows = diffRows(diff);
    expect(filterRows(rows, new Set())).toHaveLength(3);
    expect(filterRows(rows, new Set(["added", "removed"] as const)).map((r) => r.path)).toEqual(["a/old.txt", "z/new.txt"]);
  });

  it("writes signed sizes and refs as a reader expects", () => {
    const fmt = (n: number) => `${n} B`;
    expect(signedBytes(5, fmt)).toBe("+5 B");
    expect(signedBytes(-7, fmt)).toBe("−7 B");
    expect(signedBytes(0, fmt)).toBe("±0 B");
    expect(refText(diff.from)).toBe("v1 (11111111)");
    expect(refText({ kind: "commit", name: "2222", commit: "2222222222bbbb" })).toBe("22222222");
    expect(refText({ kind: "branch", name: "dev", commit: null })).toBe("dev (no commits)");
  });

  it("knows an empty diff", () => {
    expect(isEmpty(diff)).toBe(false);
    expect(isEmpty({ ...diff, added: [], changed: [], removed: [] })).toBe(true);
  });
});

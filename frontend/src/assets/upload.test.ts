import { describe, expect, it } from "vitest";
import type { LineageAnswer } from "../lineage/api";
import { producedAndUsed } from "./artifactRuns";
import { cleanPath, hashFile, partRanges } from "./upload";

/** Bytes sliced as a Blob slices them (jsdom's Blob cannot give its bytes back). */
const bytes = (data: Uint8Array) => ({
  size: data.length,
  slice: (start: number, end: number) => ({ arrayBuffer: async () => data.slice(start, end).buffer }),
});

describe("upload helpers", () => {
  it("hashes a file with SHA-256 across read slices", async () => {
    expect(await hashFile(bytes(new TextEncoder().encode("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await hashFile(bytes(new Uint8Array()))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // 9 MiB of "a": read in three slices, the digest of the whole (Python's hashlib agrees).
    expect(await hashFile(bytes(new Uint8Array(9 * 1024 * 1024).fill(0x61)))).toBe(
      "23ff721b5953999b01acf7b12c7e80f3ee453299b2f0b34b13b116977daef908",
    );
  });

  it("cuts a file into the parts of its transfer plan, the last one short", () => {
    const plan = { transfer: "1", size: 11, part_size: 5, upload_id: "u", urls: ["a", "b", "c"] };
    expect(partRanges(plan)).toEqual([[0, 5], [5, 10], [10, 11]]);
    expect(partRanges({ ...plan, size: 0, upload_id: null, urls: ["a"] })).toEqual([[0, 0]]);
  });

  it("makes relative POSIX paths the server accepts", () => {
    expect(cleanPath("data\\train/./x.csv")).toBe("data/train/x.csv");
    expect(cleanPath("/../etc//passwd")).toBe("etc/passwd");
  });
});

describe("an artifact's runs from its lineage", () => {
  it("separates the runs that wrote it from the runs that read it", () => {
    const node = (key: string, kind: "Run" | "Artifact", path: string) => ({ key, id: key, kind, name: key, path, depth: 1, version: null });
    const answer: LineageAnswer = {
      root: "art",
      depth: 1,
      nodes: [node("art", "Artifact", "/a/art"), node("w", "Run", "/a/w"), node("r2", "Run", "/a/r2"), node("r1", "Run", "/a/r1")],
      edges: [
        { id: 1, source: "w", target: "art", direction: "output" },
        { id: 2, source: "art", target: "r2", direction: "input" },
        { id: 3, source: "art", target: "r1", direction: "input" },
      ],
      hidden: 0,
      truncated: false,
    };
    const { producedBy, usedBy } = producedAndUsed(answer, "art");
    expect(producedBy.map((n) => n.key)).toEqual(["w"]);
    expect(usedBy.map((n) => n.key)).toEqual(["r1", "r2"]);
  });
});

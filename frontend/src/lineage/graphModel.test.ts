import { describe, expect, it } from "vitest";
import type { LineageAnswer, LineageNode } from "./api";
import { expandable, layoutInput, lineageNodeHref, merge, nodeLabel, shapeOf, shortLabel } from "./graphModel";
import { place } from "./layout";

const node = (key: string, kind: LineageNode["kind"], depth: number, version: LineageNode["version"] = null): LineageNode => ({
  key,
  id: key.split(":")[0],
  kind,
  name: key,
  path: `/alice/${key}`,
  depth,
  version,
});
const v1 = { id: "ver1", short: "ver1abcd", message: "first", tags: ["v1"], created_at: "2026-03-01T00:00:00Z" };

/** dataset:v1 → run → model:v1, walked from the dataset version at depth 1. */
const fromData: LineageAnswer = {
  root: "ds:ver1",
  depth: 1,
  nodes: [node("ds:ver1", "Dataset", 0, v1), node("run", "Run", 1)],
  edges: [{ id: 1, source: "ds:ver1", target: "run", direction: "input" }],
  hidden: 2,
  truncated: false,
};
const fromRun: LineageAnswer = {
  root: "run",
  depth: 1,
  nodes: [node("run", "Run", 0), node("ds:ver1", "Dataset", 1, v1), node("model:ver2", "Model", 1, { ...v1, id: "ver2", tags: [] })],
  edges: [
    { id: 1, source: "ds:ver1", target: "run", direction: "input" },
    { id: 2, source: "run", target: "model:ver2", direction: "output" },
  ],
  hidden: 1,
  truncated: false,
};

describe("merging lineage answers", () => {
  it("marks what the first walk covered and offers the rest for expanding", () => {
    const g = merge(null, fromData);
    expect(g.root).toBe("ds:ver1");
    expect([...g.nodes.keys()].sort()).toEqual(["ds:ver1", "run"]);
    expect(expandable(g)).toEqual(["run"]);
    expect(g.hidden).toBe(2);
  });

  it("adds one step around the expanded node without repeating nodes or edges", () => {
    const g = merge(merge(null, fromData), fromRun);
    expect(g.root).toBe("ds:ver1");
    expect(g.nodes.size).toBe(3);
    expect(g.edges.size).toBe(2);
    expect(expandable(g)).toEqual(["model:ver2"]);
    expect(g.hidden).toBe(2); // answers overlap: the largest count, never a sum
  });

  it("drops an edge whose end the answer did not include", () => {
    const answer = { ...fromData, edges: [...fromData.edges, { id: 9, source: "run", target: "gone", direction: "output" as const }] };
    expect(merge(null, answer).edges.size).toBe(1);
  });
});

describe("what a node shows", () => {
  it("draws runs as squares and data as circles", () => {
    expect(shapeOf({ kind: "Run" })).toBe("square");
    for (const kind of ["Artifact", "Model", "Dataset"] as const) expect(shapeOf({ kind })).toBe("circle");
  });

  it("names versions with their short id and tags, and opens them at that version", () => {
    const version = node("ds:ver1", "Dataset", 0, v1);
    expect(nodeLabel(version)).toBe("ds:ver1 @ ver1abcd (v1)");
    expect(lineageNodeHref(version)).toBe("/assets/ds?ref=ver1");
    expect(lineageNodeHref(node("run", "Run", 0))).toBe("/runs/run");
    expect(lineageNodeHref(node("art", "Artifact", 0))).toBe("/artifacts/art");
  });

  it("cuts long labels to fit under the node", () => {
    expect(shortLabel("a".repeat(40))).toHaveLength(24);
    expect(shortLabel("short")).toBe("short");
  });
});

describe("layout", () => {
  it("puts inputs left of the run and outputs right of it", () => {
    const placed = place(layoutInput(merge(merge(null, fromData), fromRun)));
    const x = (key: string) => placed.nodes.get(key)!.x;
    expect(x("ds:ver1")).toBeLessThan(x("run"));
    expect(x("run")).toBeLessThan(x("model:ver2"));
    expect(placed.edges).toHaveLength(2);
    for (const edge of placed.edges) expect(edge.points[0].x).toBeLessThan(edge.points[edge.points.length - 1].x);
  });

  it("lays out 200 nodes without overlaps in a column", () => {
    const nodes = [node("ds:ver1", "Dataset", 0, v1)];
    const edges = [];
    for (let i = 0; i < 99; i++) {
      nodes.push(node(`run${i}`, "Run", 1), node(`out${i}`, "Artifact", 2));
      edges.push({ id: i * 2, source: "ds:ver1", target: `run${i}`, direction: "input" as const });
      edges.push({ id: i * 2 + 1, source: `run${i}`, target: `out${i}`, direction: "output" as const });
    }
    const g = merge(null, { root: "ds:ver1", depth: 2, nodes, edges, hidden: 0, truncated: false });
    expect(g.nodes.size).toBe(199);
    const placed = place(layoutInput(g));
    const runs = [...placed.nodes.values()].filter((p) => p.key.startsWith("run")).map((p) => p.y).sort((a, b) => a - b);
    for (let i = 1; i < runs.length; i++) expect(runs[i] - runs[i - 1]).toBeGreaterThanOrEqual(26);
  });
});

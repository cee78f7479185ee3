// The data-flow graph as the page holds it: the answers of the lineage API merged as the reader
// expands nodes step by step, and what each node shows (shape, label, where a click goes). Pure
// functions over plain data, so they are tested without a browser.
import { nodeHref } from "../components/links";
import type { LineageAnswer, LineageEdge, LineageNode } from "./api";

export interface FlowGraph {
  root: string;
  nodes: Map<string, LineageNode>;
  edges: Map<string, LineageEdge>;
  /** Nodes whose every neighbour has been fetched: they offer no "expand". */
  expanded: Set<string>;
  /** The most neighbours any answer left out for the reader (answers overlap, so not a sum). */
  hidden: number;
  truncated: boolean;
}

export const edgeKey = (e: Pick<LineageEdge, "source" | "target" | "direction">) =>
  `${e.source}>${e.target}>${e.direction}`;

/**
 * The graph after one more answer: its nodes and edges added to what is there. A node nearer to the
 * answer's start than the depth it was walked to has had all its neighbours fetched, and so has the
 * start itself (it is the node the reader expanded).
 */
export function merge(graph: FlowGraph | null, answer: LineageAnswer): FlowGraph {
  const nodes = new Map(graph?.nodes);
  const edges = new Map(graph?.edges);
  const expanded = new Set(graph?.expanded);
  for (const node of answer.nodes) {
    if (!nodes.has(node.key)) nodes.set(node.key, node);
    if (node.depth < answer.depth || node.key === answer.root) expanded.add(node.key);
  }
  for (const edge of answer.edges) {
    if (nodes.has(edge.source) && nodes.has(edge.target)) edges.set(edgeKey(edge), edge);
  }
  return {
    root: graph?.root ?? answer.root,
    nodes,
    edges,
    expanded,
    hidden: Math.max(graph?.hidden ?? 0, answer.hidden),
    truncated: (graph?.truncated ?? false) || answer.truncated,
  };
}

/** The keys that may have neighbours not drawn yet. */
export function expandable(graph: FlowGraph): string[] {
  return [...graph.nodes.keys()].filter((key) => !graph.expanded.has(key)).sort();
}

export type Shape = "square" | "circle";

/** Runs are squares; what flows in and out of them (artifacts, models, datasets, searches) circles. */
export const shapeOf = (node: Pick<LineageNode, "kind">): Shape => (node.kind === "Run" ? "square" : "circle");

/** `resnet @ 9fa80c5c (v1, best)` for a version, the node's name otherwise. */
export function nodeLabel(node: LineageNode): string {
  if (!node.version) return node.name;
  const tags = node.version.tags.length ? ` (${node.version.tags.join(", ")})` : "";
  return `${node.name} @ ${node.version.short}${tags}`;
}

/** Where a click on the node goes in the portal: its page, at the version for a version. */
export function lineageNodeHref(node: LineageNode): string {
  const page = nodeHref(node);
  return node.version ? `${page}?ref=${encodeURIComponent(node.version.id)}` : page;
}

/** What the layout is given: every node with its box, every edge, in a stable order. */
export interface LayoutInput {
  nodes: { key: string; width: number; height: number }[];
  edges: { key: string; source: string; target: string }[];
}

export const SHAPE = 26;
export const LABEL_CHARS = 24;
const CHAR_WIDTH = 6.6;
const LABEL_LINE = 16;

/** A label cut to what fits under its node (the whole text is in the node's tooltip). */
export function shortLabel(text: string): string {
  return text.length > LABEL_CHARS ? `${text.slice(0, LABEL_CHARS - 1)}…` : text;
}

export function layoutInput(graph: FlowGraph): LayoutInput {
  const nodes = [...graph.nodes.values()]
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((node) => ({
      key: node.key,
      width: Math.max(SHAPE, Math.ceil(shortLabel(nodeLabel(node)).length * CHAR_WIDTH)),
      height: SHAPE + LABEL_LINE,
    }));
  const edges = [...graph.edges.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, edge]) => ({ key, source: edge.source, target: edge.target }));
  return { nodes, edges };
}

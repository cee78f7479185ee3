// Left-to-right layout of the data-flow graph by dagre (a real layered-graph layout: ranks, crossing
// reduction, coordinates), which runs in the page without eval or workers, so the portal's CSP holds.
import { graphlib, layout } from "@dagrejs/dagre";
import { SHAPE, type LayoutInput } from "./graphModel";

export interface Point {
  x: number;
  y: number;
}

export interface PlacedNode {
  key: string;
  /** The centre of the node's shape (its label sits below it). */
  x: number;
  y: number;
}

export interface PlacedEdge {
  key: string;
  source: string;
  target: string;
  points: Point[];
}

export interface Placed {
  nodes: Map<string, PlacedNode>;
  edges: PlacedEdge[];
  width: number;
  height: number;
}

const MARGIN = 24;

export function place(input: LayoutInput): Placed {
  const g = new graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 110, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of input.nodes) g.setNode(node.key, { width: node.width, height: node.height });
  for (const edge of input.edges) g.setEdge(edge.source, edge.target, {}, edge.key);
  layout(g);

  const nodes = new Map<string, PlacedNode>();
  for (const node of input.nodes) {
    const box = g.node(node.key);
    // The shape is at the top of the node's box, centred; the label fills the rest below it.
    nodes.set(node.key, { key: node.key, x: box.x, y: box.y - box.height / 2 + SHAPE / 2 });
  }
  const edges = input.edges.map((edge) => {
    const from = nodes.get(edge.source)!;
    const to = nodes.get(edge.target)!;
    const inner = (g.edge({ v: edge.source, w: edge.target, name: edge.key })?.points ?? []).slice(1, -1);
    // Start and end at the shapes' sides, not at the label boxes dagre sized.
    return {
      key: edge.key,
      source: edge.source,
      target: edge.target,
      points: [{ x: from.x + SHAPE / 2, y: from.y }, ...inner, { x: to.x - SHAPE / 2, y: to.y }],
    };
  });
  const graph = g.graph();
  return { nodes, edges, width: graph.width ?? 0, height: graph.height ?? 0 };
}

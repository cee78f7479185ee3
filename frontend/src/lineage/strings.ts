// Every English string of the data-flow graph.
export const lineageEn = {
  tab: "Data flow",
  title: "Data flow",
  loading: "Drawing the data flow…",
  empty: "Nothing flowed into or out of this yet.",
  emptyHint: "Mark a run's inputs and outputs with the SDK (run.mark_input / run.mark_output) or `em upload`.",
  graphLabel: (root: string) => `Data flow around ${root}`,
  fullScreen: "Full screen",
  back: "Back",
  fit: "Fit",
  find: "Find a node",
  zoomIn: "Zoom in",
  zoomOut: "Zoom out",
  depth: "Depth",
  expand: (name: string) => `Show what is next to ${name}`,
  expandAll: "Expand one step",
  counts: (nodes: number, edges: number) =>
    `${nodes.toLocaleString("en")} ${nodes === 1 ? "node" : "nodes"}, ${edges.toLocaleString("en")} ${edges === 1 ? "edge" : "edges"}`,
  hidden: (n: number) => `${n.toLocaleString("en")} ${n === 1 ? "neighbour is" : "neighbours are"} not shown: you may not view ${n === 1 ? "it" : "them"}.`,
  truncated: "The graph is cut at 5,000 nodes.",
  legend: { run: "Run", data: "Artifact, model or dataset version", expandable: "More next to it" },
  help: "Drag to move, scroll to zoom; click a node to open it, its + to show its neighbours.",
};

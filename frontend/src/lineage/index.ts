// The data-flow (lineage) graph: a tab on run, artifact and asset pages, and /lineage in full screen.
export { DataFlow, lineageHref } from "./DataFlow";
export { LineagePage } from "./LineagePage";
export { lineageEn } from "./strings";

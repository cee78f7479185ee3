// Where each node opens in the portal. Folders (and other tree nodes) open in the browser under
// /browse/<path>; runs, artifacts, searches, models and datasets on their own page; a shortcut opens
// its target.
import type { Kind, Node, NodeTarget } from "../api";

/** `/browse/alice/a%20b` for the node path `/alice/a b` (each segment encoded). */
export function browseHref(path: string): string {
  const segments = path.split("/").filter(Boolean).map(encodeURIComponent);
  return `/browse/${segments.join("/")}`;
}

/** The node path `/alice/a b` named by the router's pathname `/browse/alice/a%20b`. */
export function pathFromBrowse(pathname: string): string {
  const rest = pathname.replace(/^\/browse\/?/, "");
  return `/${rest.split("/").filter(Boolean).map(safeDecode).join("/")}`;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The kinds with a page of their own, by id (the others open in the folder browser). */
const PAGE_OF_KIND: Partial<Record<Kind, string>> = {
  Run: "/runs",
  Artifact: "/artifacts",
  AutoTune: "/autotune",
  Model: "/assets",
  Dataset: "/assets",
};

export function nodeHref(node: Pick<Node, "id" | "kind" | "path"> & { target?: NodeTarget | null }): string {
  if (node.kind === "Shortcut") return node.target ? nodeHref(node.target) : browseHref(node.path);
  const page = PAGE_OF_KIND[node.kind];
  return page ? `${page}/${node.id}` : browseHref(node.path);
}

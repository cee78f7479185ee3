// The lineage endpoint (docs/lineage.md): the neighbourhood of a run, artifact, asset or version,
// both directions, to a depth, with only what the caller may view.
import { api, type Kind } from "../api";

/** A model or dataset version as lineage shows it. */
export interface VersionInfo {
  id: string;
  short: string;
  message: string;
  tags: string[];
  created_at: string;
}

export interface LineageNode {
  /** The node's id, or `<asset id>:<version id>` for a version (itself a valid `node=`). */
  key: string;
  id: string;
  kind: Kind;
  name: string;
  path: string;
  depth: number;
  version: VersionInfo | null;
}

export type Direction = "input" | "output" | "version";

export interface LineageEdge {
  id: number | null;
  source: string;
  target: string;
  direction: Direction;
}

export interface LineageAnswer {
  root: string;
  depth: number;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** Neighbours left out because the caller may not view them. */
  hidden: number;
  truncated: boolean;
}

/** The largest depth the server walks. */
export const MAX_DEPTH = 10;

export const getLineage = (node: string, depth: number, signal?: AbortSignal) =>
  api<LineageAnswer>("/lineage", { query: { node, depth }, signal });

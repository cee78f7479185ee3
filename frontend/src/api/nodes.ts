// The node tree: folders and their children, moves, sharing and the trash.
import { api, type Page } from "./client";
import type { Kind, Node, PrincipalType, RunSummaryRow, ShareLevel, Shares } from "./types";

export const getNode = (id: string, signal?: AbortSignal) => api<Node>(`/nodes/${id}`, { signal });

export const resolvePath = (path: string, signal?: AbortSignal) =>
  api<Node>("/nodes/resolve", { query: { path }, signal });

export interface ChildrenQuery {
  /** name, kind, modified or created; prefixed with "-" to reverse. */
  ordering?: string;
  kind?: Kind;
  page?: number;
  pageSize?: number;
}

export const listChildren = (id: string, q: ChildrenQuery = {}, signal?: AbortSignal) =>
  api<Page<Node>>(`/nodes/${id}/children`, {
    query: { ordering: q.ordering, kind: q.kind, page: q.page, page_size: q.pageSize },
    signal,
  });

/** The first `limit` sub-folders of a folder, by name (for the tree and the folder picker). */
export const listFolders = (id: string, limit: number, signal?: AbortSignal) =>
  api<Page<Node>>(`/nodes/${id}/children`, { query: { kind: "Folder", ordering: "name", page_size: limit }, signal });

export interface NewNode {
  parent: string;
  name: string;
  kind?: Kind;
  labels?: string[];
  description?: string;
  target?: string;
}

export const createNode = (body: NewNode) => api<Node>("/nodes", { method: "POST", body });

export const updateNode = (id: string, body: { name?: string; labels?: string[]; description?: string }) =>
  api<Node>(`/nodes/${id}`, { method: "PATCH", body });

export const moveNode = (id: string, destination: string) =>
  api<Node>(`/nodes/${id}/move`, { method: "POST", body: { destination } });

export const trashNode = (id: string) => api<void>(`/nodes/${id}`, { method: "DELETE" });

export const restoreNode = (id: string) => api<Node>(`/nodes/${id}/restore`, { method: "POST" });

export const deleteForever = (id: string) => api<void>(`/trash/${id}`, { method: "DELETE" });

export const getShares = (id: string, signal?: AbortSignal) => api<Shares>(`/nodes/${id}/shares`, { signal });

export const share = (id: string, type: PrincipalType, name: string | null, level: ShareLevel) =>
  api<Shares>(`/nodes/${id}/shares`, {
    method: "POST",
    body: type === "public" ? { type, level } : { type, name, level },
  });

export const unshare = (id: string, type: PrincipalType, name: string | null) =>
  api<{ removed: number }>(
    type === "public" ? `/nodes/${id}/shares/public` : `/nodes/${id}/shares/${type}/${encodeURIComponent(name ?? "")}`,
    { method: "DELETE" },
  );

/** The lists beside the tree: shared with me, public, trash — one page at a time. */
export type NodeListName = "shared-with-me" | "public" | "trash";

export const listNodes = (list: NodeListName, page: number, pageSize: number, signal?: AbortSignal) =>
  api<Page<Node>>(`/${list}`, { query: { page, page_size: pageSize }, signal });

/** The status of the given runs, by id (one search call; ids beyond one page are not asked for). */
export async function runStatuses(ids: string[], signal?: AbortSignal): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const quoted = ids.map((id) => `'${id}'`).join(", ");
  const page = await api<Page<RunSummaryRow>>("/runs", {
    query: { filter: `attributes.run_id IN (${quoted})`, page_size: ids.length },
    signal,
  });
  return new Map(page.results.map((row) => [row.id, row.run.status]));
}

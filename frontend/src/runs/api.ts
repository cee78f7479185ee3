// The run endpoints, over the portal's one API client (session cookie, CSRF header, ApiError).
import { api, queryString, type Page } from "../api";
import type { KnownKeys } from "./filterKeys";
import type { CompareResult, FileEntry, LogPage, RunDetail, RunRow } from "./types";

export interface SearchQuery {
  filter?: string;
  folder?: string | null;
  orderBy?: string;
  page?: number;
  pageSize?: number;
  /** Count every match: without it the server stops counting at 1,000 (`count_exact` false). */
  exactCount?: boolean;
}

/** A page of the run search: `count` stops at the server's limit unless `count_exact`. */
export interface RunPage extends Page<RunRow> {
  count_exact: boolean;
}

function searchParams(q: SearchQuery) {
  return { filter: q.filter, folder: q.folder ?? undefined, order_by: q.orderBy };
}

export const searchRuns = (q: SearchQuery, signal?: AbortSignal) =>
  api<RunPage>("/runs", {
    query: { ...searchParams(q), page: q.page, page_size: q.pageSize, exact_count: q.exactCount ? 1 : undefined },
    signal,
  });

/** The param, metric and tag keys of the runs a search over the same scope sees (for completion). */
export const rowKeys = (q: SearchQuery, signal?: AbortSignal) =>
  api<KnownKeys>("/runs/keys", { query: { folder: q.folder ?? undefined }, signal });

/** The CSV export's address for the same search (a plain link: the browser downloads it). */
export const exportUrl = (q: SearchQuery) => `/api/v1/runs/export.csv${queryString(searchParams(q))}`;

/** Current rows of the given runs (for refreshing running ones): one search by id. */
export function rowsByIds(ids: string[], signal?: AbortSignal) {
  const quoted = ids.map((id) => `'${id}'`).join(", ");
  return searchRuns({ filter: `attributes.run_id IN (${quoted})`, pageSize: Math.min(ids.length, 1000) }, signal);
}

export const getRun = (id: string, signal?: AbortSignal) => api<RunDetail>(`/runs/${id}`, { signal });

export const updateRun = (id: string, body: { notes?: string }) =>
  api<RunDetail>(`/runs/${id}`, { method: "PATCH", body });

const tagPath = (id: string, key: string) => `/runs/${id}/tags/${key.split("/").map(encodeURIComponent).join("/")}`;

export const setTag = (id: string, key: string, value: string) =>
  api<{ key: string; value: string }>(tagPath(id, key), { method: "PUT", body: { value } });

export const deleteTag = (id: string, key: string) => api<void>(tagPath(id, key), { method: "DELETE" });

export type { XFetch } from "./types";

// Histories travel in the compact form (application/vnd.em.history), read into typed arrays.
export { histories, metricHistory } from "./historyWire";

export const runLog = (id: string, offset: number, limit: number, q: string, signal?: AbortSignal) =>
  api<LogPage>(`/runs/${id}/log`, { query: { offset, limit, q }, signal });

export const compareRuns = (runs: string[], signal?: AbortSignal) =>
  api<CompareResult>("/runs/compare", { method: "POST", body: { runs }, signal });

export const listFiles = (id: string, signal?: AbortSignal) => api<FileEntry[]>(`/nodes/${id}/files`, { signal });

export const fileUrl = (id: string, path: string) =>
  `/api/v1/nodes/${id}/files/${path.split("/").map(encodeURIComponent).join("/")}`;

export const trashRun = (id: string) => api<void>(`/nodes/${id}`, { method: "DELETE" });

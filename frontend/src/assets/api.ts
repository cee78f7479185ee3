// The Asset Hub endpoints (docs/assethub-api.md) and an artifact's files and references
// (docs/runs-api.md), over the portal's one API client.
import { api, type Node, type Page } from "../api";

export interface Version {
  id: string;
  asset: string;
  message: string;
  author: string | null;
  created_at: string;
  parents: string[];
  metadata: Record<string, unknown>;
  file_count: number;
  total_size: number;
  tags: string[];
}

export interface Branch {
  name: string;
  head: string | null;
  created_at: string;
  created_by: string | null;
}

export interface Tag {
  name: string;
  version: string;
  created_at: string;
  created_by: string | null;
}

export interface Asset {
  asset: Node;
  branches: Branch[];
}

export interface RefInfo {
  kind: "branch" | "tag" | "commit";
  name: string;
  commit: string | null;
}

export interface FileRow {
  path: string;
  size: number;
  sha256: string;
}

export interface ChangedRow extends FileRow {
  old_size: number;
  old_sha256: string;
}

export interface Diff {
  from: RefInfo;
  to: RefInfo;
  summary: { added: number; changed: number; removed: number; bytes_added: number; bytes_removed: number; bytes_changed: number };
  added: FileRow[];
  changed: ChangedRow[];
  removed: FileRow[];
}

export interface Merged {
  result: "up_to_date" | "fast_forward" | "merge";
  branch: Branch;
  version: Version;
}

export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
  md5: string;
  mtime: string | null;
}

export const MAIN = "main";
const asset = (id: string) => `/assets/${id}`;
const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

export const getAsset = (id: string, signal?: AbortSignal) => api<Asset>(asset(id), { signal });

export const createAsset = (body: { kind: "Model" | "Dataset"; name: string; parent?: string; description?: string }) =>
  api<Asset>("/assets", { method: "POST", body });

export const listVersions = (id: string, ref: string, page: number, pageSize: number, signal?: AbortSignal) =>
  api<Page<Version>>(`${asset(id)}/commits`, { query: { ref, page, page_size: pageSize }, signal });

export const getVersion = (id: string, ref: string, signal?: AbortSignal) =>
  api<Version>(`${asset(id)}/commits/${encodeURIComponent(ref)}`, { signal });

export const listTags = (id: string, signal?: AbortSignal) => api<Tag[]>(`${asset(id)}/tags`, { signal });

export const createTag = (id: string, name: string, ref: string) =>
  api<Tag>(`${asset(id)}/tags`, { method: "POST", body: { name, ref } });

export const createBranch = (id: string, name: string, start: string) =>
  api<Branch>(`${asset(id)}/branches`, { method: "POST", body: { name, start } });

export const merge = (id: string, source: string, message: string) =>
  api<Merged>(`${asset(id)}/merge`, { method: "POST", body: message ? { source, message } : { source } });

export const diffRefs = (id: string, from: string, to: string, signal?: AbortSignal) =>
  api<Diff>(`${asset(id)}/diff`, { query: { from, to }, signal });

export const listFilesAt = (id: string, ref: string, page: number, pageSize: number, signal?: AbortSignal) =>
  api<Page<FileEntry>>(`${asset(id)}/files`, { query: { ref, page, page_size: pageSize }, signal });

/** One file's bytes at a ref (a plain link: the browser downloads it). */
export const assetFileUrl = (id: string, path: string, ref: string) =>
  `/api/v1${asset(id)}/files/${encodePath(path)}?ref=${encodeURIComponent(ref)}`;

/** Every file at a ref as one zip, streamed. */
export const archiveUrl = (id: string, ref: string) => `/api/v1${asset(id)}/archive.zip?ref=${encodeURIComponent(ref)}`;

// Artifacts: files (the manifest), external references, the whole archive.

export const listNodeFiles = (id: string, signal?: AbortSignal) => api<FileEntry[]>(`/nodes/${id}/files`, { signal });

export const nodeFileUrl = (id: string, path: string) => `/api/v1/nodes/${id}/files/${encodePath(path)}`;

export const nodeArchiveUrl = (id: string) => `/api/v1/nodes/${id}/archive.zip`;

export interface References {
  references: { path: string; uri: string }[];
  problem: string | null;
}

export const listReferences = (id: string, signal?: AbortSignal) => api<References>(`/nodes/${id}/references`, { signal });

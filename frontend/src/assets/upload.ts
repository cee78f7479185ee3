// The portal's side of the one upload protocol (docs/runs-api.md): hash every file (SHA-256, read in
// slices so a large file never sits in memory whole), announce the manifest, send only the blobs the
// server says it lacks from us, then commit. Progress is reported in bytes as it goes. With an S3 store
// the server answers a transfer plan per missing blob: its bytes go straight to the bucket's presigned
// URLs (in parts for a large file; docs/deploy.md "S3" has the bucket CORS this needs), then the server
// verifies them.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { api, ApiError, csrfToken, API_ROOT, type Node } from "../api";

/** A file to send and the relative path it will have in the node. */
export interface Picked {
  path: string;
  file: File;
}

export interface Progress {
  phase: "hashing" | "sending" | "committing";
  done: number;
  total: number;
}

const SLICE = 4 * 1024 * 1024;

/** What hashing reads: a File or Blob (any object that slices into buffers). */
export interface Sliceable {
  size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

export async function hashFile(file: Sliceable): Promise<string> {
  const hash = sha256.create();
  for (let start = 0; start < file.size; start += SLICE) {
    hash.update(new Uint8Array(await file.slice(start, start + SLICE).arrayBuffer()));
  }
  return bytesToHex(hash.digest());
}

/** Paths as the server takes them: relative, `/`-separated, no empty, `.` or `..` parts. */
export function cleanPath(path: string): string {
  return path
    .replace(/\\/g, "/")
    .split("/")
    .filter((part) => part && part !== "." && part !== "..")
    .join("/");
}

/** PUT bytes to `url`, reporting bytes sent (fetch cannot report upload progress; XMLHttpRequest can);
 * answers the response's ETag. EM's own URL gets the CSRF token; a presigned bucket URL gets nothing of
 * ours (it carries its own signature, and cookies never go to another origin). */
function put(url: string, body: Blob, own: boolean, onBytes: (sent: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    if (own) xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.upload.onprogress = (e) => onBytes(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr.getResponseHeader("ETag") ?? "");
      let message = `${xhr.status} ${xhr.statusText}`;
      let code = "http_error";
      try {
        const body = JSON.parse(xhr.responseText) as { error?: { code?: string; message?: string } };
        message = body.error?.message ?? message;
        code = body.error?.code ?? code;
      } catch {
        // not JSON: the status line says it
      }
      reject(new ApiError(xhr.status, code, message));
    };
    xhr.onerror = () =>
      reject(
        own
          ? new ApiError(0, "network", "The server could not be reached. Check your connection and try again.")
          : new ApiError(0, "network", "The file store could not be reached (its CORS rules must allow this page). Try again, or ask the administrator."),
      );
    xhr.send(body);
  });
}

/** How to send one blob to the S3 bucket (`transfers` in the answer of `POST /uploads`). */
export interface Transfer {
  transfer: string;
  size: number;
  part_size: number;
  upload_id: string | null;
  urls: string[];
}

interface Started {
  id?: string;
  missing?: string[];
  transfers?: Record<string, Transfer>;
  skipped?: boolean;
  node?: Node;
}

/** The byte ranges [start, end) of a plan's parts, one per URL. */
export function partRanges(plan: Transfer): [number, number][] {
  return plan.urls.map((_, i) => [i * plan.part_size, Math.min(plan.size, (i + 1) * plan.part_size)]);
}

/** Send one blob: to the bucket by its plan (then have EM verify it), else to EM. */
async function sendBlob(digest: string, file: File, plan: Transfer | undefined, onBytes: (sent: number) => void): Promise<void> {
  if (plan === undefined) {
    await put(`${API_ROOT}/blobs/${digest}`, file, true, onBytes);
    return;
  }
  const parts = [];
  for (const [i, [start, end]] of partRanges(plan).entries()) {
    const etag = await put(plan.urls[i], file.slice(start, end), false, (bytes) => onBytes(start + bytes));
    parts.push({ part_number: i + 1, etag });
  }
  const body = plan.upload_id ? { transfer: plan.transfer, upload_id: plan.upload_id, parts } : { transfer: plan.transfer };
  await api(`/blobs/${digest}/complete`, { method: "POST", body });
}

/** Upload `files` as a new artifact `name` in `parent`; the node it made. */
export async function uploadArtifact(parent: string, name: string, files: Picked[], onProgress: (p: Progress) => void): Promise<Node> {
  const totalBytes = files.reduce((n, f) => n + f.file.size, 0);
  const manifest = [];
  let hashed = 0;
  for (const { path, file } of files) {
    onProgress({ phase: "hashing", done: hashed, total: totalBytes });
    const digest = await hashFile(file);
    hashed += file.size;
    manifest.push({ path: cleanPath(path), size: file.size, sha256: digest, mtime: new Date(file.lastModified).toISOString(), file });
  }
  const started = await api<Started>("/uploads", {
    method: "POST",
    body: {
      kind: "Artifact",
      parent,
      name,
      conflict_strategy: "error",
      files: manifest.map(({ path, size, sha256: digest, mtime }) => ({ path, size, sha256: digest, mtime })),
    },
  });
  if (started.skipped && started.node) return started.node;
  const missing = new Set(started.missing ?? []);
  const toSend = manifest.filter((m) => missing.delete(m.sha256)); // each digest once
  const sendBytes = toSend.reduce((n, m) => n + m.size, 0);
  let sent = 0;
  for (const m of toSend) {
    const plan = started.transfers?.[m.sha256];
    await sendBlob(m.sha256, m.file, plan, (bytes) => onProgress({ phase: "sending", done: sent + bytes, total: sendBytes }));
    sent += m.size;
  }
  onProgress({ phase: "committing", done: sendBytes, total: sendBytes });
  const committed = await api<{ node: Node }>(`/uploads/${started.id}/commit`, { method: "POST" });
  return committed.node;
}

/**
 * Every file under what was dropped, folders walked, with paths relative to what was dropped. A drop
 * that gives no entries (some browsers, synthetic drops) still gives its plain files.
 */
export async function droppedFiles(transfer: DataTransfer): Promise<Picked[]> {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return [...transfer.files].map((file) => ({ path: file.name, file }));
  const out: Picked[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
      out.push({ path: `${prefix}${entry.name}`, file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, "");
  return out;
}

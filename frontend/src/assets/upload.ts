// The portal's side of the one upload protocol (docs/runs-api.md): hash every file (SHA-256, read in
// slices so a large file never sits in memory whole), announce the manifest, send only the blobs the
// server says it lacks from us, then commit. Progress is reported in bytes as it goes.
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

/** PUT one blob, reporting bytes sent (fetch cannot report upload progress; XMLHttpRequest can). */
function putBlob(digest: string, file: File, onBytes: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `${API_ROOT}/blobs/${digest}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.upload.onprogress = (e) => onBytes(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
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
    xhr.onerror = () => reject(new ApiError(0, "network", "The server could not be reached. Check your connection and try again."));
    xhr.send(file);
  });
}

interface Started {
  id?: string;
  missing?: string[];
  skipped?: boolean;
  node?: Node;
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
    await putBlob(m.sha256, m.file, (bytes) => onProgress({ phase: "sending", done: sent + bytes, total: sendBytes }));
    sent += m.size;
  }
  onProgress({ phase: "committing", done: sendBytes, total: sendBytes });
  const committed = await api<{ node: Node }>(`/uploads/${started.id}/commit`, { method: "POST" });
  return committed.node;
}

/** Every file under the dropped items, folders walked, with their paths relative to what was dropped. */
export async function droppedFiles(items: DataTransferItemList): Promise<Picked[]> {
  const entries = [...items].map((item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
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

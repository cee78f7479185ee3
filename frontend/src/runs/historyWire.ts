// Metric histories in the compact form (docs/runs-api.md "Compact histories"): the portal asks for
// `application/vnd.em.history` and reads the stored 8-byte columns straight into typed arrays, instead of
// parsing tens of thousands of JSON numbers. Errors still come as the API's JSON error, through `api`.
import { API_ROOT, ApiError, api, csrfToken, queryString, type Query } from "../api";
import type { History, XFetch } from "./types";

export const HISTORY_MEDIA_TYPE = "application/vnd.em.history";
const MAGIC = "EMH1";
const NO_EPOCH = -(2n ** 63n);

type Column = (number | null)[];

function column(buffer: ArrayBuffer, offset: number, points: number, name: string, dtype: string): Column {
  if (dtype === "<f8") {
    const values = new Float64Array(buffer, offset, points);
    return Array.from(values, (v) => (Number.isNaN(v) ? null : v));
  }
  if (dtype === "<i8") {
    const values = new BigInt64Array(buffer, offset, points);
    return Array.from(values, (v) => (name === "epoch" && v === NO_EPOCH ? null : Number(v)));
  }
  throw new ApiError(200, "bad_response", `The history column ${name} has an unknown type ${dtype}.`);
}

/** The histories of an answer in the compact form, in order (one frame per series). */
export function decodeHistories(buffer: ArrayBuffer): History[] {
  const view = new DataView(buffer);
  const text = new TextDecoder();
  const out: History[] = [];
  let at = 0;
  while (at < buffer.byteLength) {
    if (text.decode(new Uint8Array(buffer, at, 4)) !== MAGIC) {
      throw new ApiError(200, "bad_response", "The server's history answer is not in the compact form.");
    }
    const length = view.getUint32(at + 4, true);
    const header = JSON.parse(text.decode(new Uint8Array(buffer, at + 8, length)));
    at += 8 + length;
    const columns: Record<string, Column> = {};
    for (const spec of header.columns as string[]) {
      const [name, dtype] = spec.split(":");
      columns[name] = column(buffer, at, header.points, name, dtype);
      at += 8 * header.points;
    }
    out.push({
      key: header.key,
      ...(header.run ? { run: header.run } : {}),
      count: header.count,
      downsampled: header.downsampled,
      step: columns.step as number[],
      epoch: columns.epoch,
      timestamp: columns.timestamp as number[],
      value: columns.value,
      min: columns.min ?? null,
      max: columns.max ?? null,
    });
  }
  return out;
}

/** GET or POST `path` asking for the compact form; a failure (or an answer in JSON) goes through `api`,
 * the portal's one way of reading the server's JSON and its errors. */
async function fetchHistories(path: string, query: Query, body: unknown, signal?: AbortSignal): Promise<History[]> {
  const method = body === undefined ? "GET" : "POST";
  const asJson = () =>
    api<History | { series: History[] }>(path, { method, query, body, signal }).then((answer) =>
      "series" in answer ? answer.series : [answer],
    );
  const headers: Record<string, string> = { Accept: HISTORY_MEDIA_TYPE };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = csrfToken();
  }
  let response: Response;
  try {
    response = await fetch(`${API_ROOT}${path}${queryString(query)}`, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    return asJson();
  }
  if (!response.ok || !(response.headers.get("Content-Type") ?? "").startsWith(HISTORY_MEDIA_TYPE)) return asJson();
  return decodeHistories(await response.arrayBuffer());
}

const metricPath = (id: string, key: string) => `/runs/${id}/metrics/${key.split("/").map(encodeURIComponent).join("/")}`;

export const metricHistory = (id: string, key: string, maxPoints: number, x: XFetch, signal?: AbortSignal) =>
  fetchHistories(metricPath(id, key), { max_points: maxPoints, x }, undefined, signal).then(([history]) => history);

export const histories = (runs: string[], keys: string[], maxPoints: number, x: XFetch, signal?: AbortSignal) =>
  fetchHistories("/metrics/history", {}, { runs, keys, max_points: maxPoints, x }, signal).then((series) => ({
    series,
  }));

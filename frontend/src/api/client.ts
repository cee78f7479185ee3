// The one way the portal talks to the server: JSON over /api/v1 with the session cookie, the CSRF
// token on writes, and every failure turned into an ApiError carrying the server's error shape
// (`{"error": {"code", "message", "detail"}}`), so screens show the server's own sentence.

export const API_ROOT = "/api/v1";

/** A failed API call: `status` 0 means the server could not be reached at all. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: unknown;

  constructor(status: number, code: string, message: string, detail: unknown = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
  }

  /** The session is gone (signed out elsewhere, expired): the user must sign in again. */
  get needsSignIn(): boolean {
    return this.status === 401 || this.code === "not_authenticated";
  }
}

/** Django's CSRF token, from the `csrftoken` cookie the portal's page sets. */
export function csrfToken(cookies: string = document.cookie): string {
  for (const part of cookies.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "csrftoken") return decodeURIComponent(rest.join("="));
  }
  return "";
}

export type Query = Record<string, string | number | boolean | undefined | null | string[]>;

/** `?a=1&b=x` from a record; empty and undefined values are left out, arrays repeat the key. */
export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page, an HTML 500): fall through to the status line.
  }
  const error = (body as { error?: { code?: string; message?: string; detail?: unknown } } | null)?.error;
  if (error && typeof error.message === "string") {
    return new ApiError(response.status, error.code ?? "error", error.message, error.detail ?? null);
  }
  return new ApiError(response.status, "http_error", `${response.status} ${response.statusText}`.trim());
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

/** Call `path` (relative to /api/v1, e.g. `/nodes/<id>`) and return its JSON (undefined for 204). */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(`${API_ROOT}${path}${queryString(options.query)}`, {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError(0, "network", "The server could not be reached. Check your connection and try again.");
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** One page of a paginated list (`?page=N&page_size=M`). */
export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** The largest page the server gives (PagePagination.max_page_size). */
export const MAX_PAGE_SIZE = 1000;

/** The page number holding item `index` for pages of `pageSize`, counted from 1 as the API does. */
export function pageOf(index: number, pageSize: number): number {
  return Math.floor(index / pageSize) + 1;
}

/** Every item of a paginated list, fetched page by page (for short lists: keys, groups, trash). */
export async function fetchAll<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; ; page++) {
    const result = await api<Page<T>>(path, { query: { ...query, page, page_size: MAX_PAGE_SIZE }, signal });
    items.push(...result.results);
    if (!result.next) return items;
  }
}

/** The message to show for any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

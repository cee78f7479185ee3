import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, csrfToken, fetchAll, pageOf, queryString } from "./client";

function respond(status: number, body: unknown) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("csrfToken", () => {
  it("reads Django's cookie among others", () => {
    expect(csrfToken("sessionid=x; csrftoken=abc%3D1; other=y")).toBe("abc=1");
    expect(csrfToken("sessionid=x")).toBe("");
  });
});

describe("queryString", () => {
  it("leaves out empty values and repeats arrays", () => {
    expect(queryString({ a: 1, b: "", c: undefined, d: ["x", "y"], e: false })).toBe("?a=1&d=x&d=y&e=false");
    expect(queryString({})).toBe("");
  });
});

describe("api", () => {
  it("sends JSON with the CSRF header on writes and returns the body", async () => {
    document.cookie = "csrftoken=tok";
    const fetch = vi.fn().mockResolvedValue(respond(201, { id: "n1" }));
    vi.stubGlobal("fetch", fetch);
    await expect(api("/nodes", { method: "POST", body: { name: "a" } })).resolves.toEqual({ id: "n1" });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe("/api/v1/nodes");
    expect(init.headers["X-CSRFToken"]).toBe("tok");
    expect(init.body).toBe('{"name":"a"}');
  });

  it("turns the server's error shape into an ApiError with its message and detail", async () => {
    const body = { error: { code: "conflict", message: "/alice/a already exists.", detail: { path: "/alice/a" } } };
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(respond(409, body)));
    const error = await api("/nodes").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: "conflict", message: "/alice/a already exists." });
    expect((error as ApiError).detail).toEqual({ path: "/alice/a" });
  });

  it("says when the session is gone, and when the server cannot be reached", async () => {
    const gone = { error: { code: "not_authenticated", message: "Sign in.", detail: null } };
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(respond(401, gone)));
    expect(((await api("/me").catch((e) => e)) as ApiError).needsSignIn).toBe(true);
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    expect(await api("/me").catch((e) => e)).toMatchObject({ status: 0, code: "network" });
  });

  it("reads a non-JSON failure as its status line", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(new Response("<html>", { status: 502, statusText: "Bad Gateway" })));
    expect(await api("/me").catch((e) => e)).toMatchObject({ status: 502, message: "502 Bad Gateway" });
  });
});

describe("pagination", () => {
  it("numbers pages from 1", () => {
    expect([pageOf(0, 200), pageOf(199, 200), pageOf(200, 200)]).toEqual([1, 1, 2]);
  });

  it("fetchAll follows pages until there is no next", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(respond(200, { count: 3, next: "p2", previous: null, results: [1, 2] }))
      .mockResolvedValueOnce(respond(200, { count: 3, next: null, previous: "p1", results: [3] }));
    vi.stubGlobal("fetch", fetch);
    expect(await fetchAll<number>("/trash")).toEqual([1, 2, 3]);
    expect(fetch.mock.calls[1][0]).toBe("/api/v1/trash?page=2&page_size=1000");
  });
});

import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { useApi } from "./useApi";

describe("useApi", () => {
  it("never gives out an answer for other deps, and keeps the answer on screen while reloading", async () => {
    const calls: string[] = [];
    const { result, rerender } = renderHook(({ id }) => useApi(async () => (calls.push(id), `answer ${id}`), [id]), {
      initialProps: { id: "a" },
    });
    await waitFor(() => expect(result.current.data).toBe("answer a"));
    rerender({ id: "b" });
    expect(result.current.data).toBeNull(); // the render before the effect: a's answer is not b's
    await waitFor(() => expect(result.current.data).toBe("answer b"));
    act(() => result.current.reload());
    expect(result.current.data).toBe("answer b"); // still there while the reload is in flight
    await waitFor(() => expect(calls).toEqual(["a", "b", "b"]));
  });

  it("reports a failure, and clears it on success", async () => {
    let fail = true;
    const { result } = renderHook(() => useApi(async () => {
      if (fail) throw new Error("down");
      return 1;
    }, []));
    await waitFor(() => expect((result.current.error as Error).message).toBe("down"));
    fail = false;
    act(() => result.current.reload());
    await waitFor(() => expect(result.current.data).toBe(1));
    expect(result.current.error).toBeNull();
  });
});

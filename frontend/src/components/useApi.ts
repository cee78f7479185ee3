// The one fetch-with-abort hook of part 2's pages: a call that depends on a few values, its answer,
// its failure and a way to try again. Each change of `deps` aborts the call in flight, so an old
// answer never lands on a newer screen; `reload` keeps the answer on screen until the new one comes
// (a page refreshing after a write does not flash back to "Loading").
import { useCallback, useEffect, useState } from "react";

export interface Fetched<T> {
  /** null until the first answer (and again while a different `deps` loads). */
  data: T | null;
  error: unknown;
  reload: () => void;
  /** Replace the answer in place (after a write that returned the new state). */
  setData: (data: T) => void;
}

const sameDeps = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((d, i) => Object.is(d, b[i]));

export function useApi<T>(call: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Fetched<T> {
  // The answer and error remember the deps they belong to: on the render where the deps change (before
  // the effect runs) the last answer is for other deps and is not given out.
  const [answer, setAnswer] = useState<{ deps: readonly unknown[]; data: T | null; error: unknown }>({ deps, data: null, error: null });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setAnswer((a) => (sameDeps(a.deps, deps) ? { ...a, error: null } : { deps, data: null, error: null }));
    call(controller.signal).then(
      (data) => !controller.signal.aborted && setAnswer({ deps, data, error: null }),
      (error: unknown) => !controller.signal.aborted && setAnswer((a) => ({ deps, data: sameDeps(a.deps, deps) ? a.data : null, error })),
    );
    return () => controller.abort();
    // `call` is a new closure each render; what it depends on is `deps`.
  }, [...deps, attempt]);

  const reload = useCallback(() => setAttempt((a) => a + 1), []);
  const current = sameDeps(answer.deps, deps);
  const setData = useCallback((data: T) => setAnswer((a) => ({ ...a, data })), []);
  return { data: current ? answer.data : null, error: current ? answer.error : null, reload, setData };
}

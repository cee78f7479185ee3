// The one fetch-with-abort hook of part 2's pages: a call that depends on a few values, its answer,
// its failure and a way to try again. Each change of `deps` aborts the call in flight, so an old
// answer never lands on a newer screen; `reload` keeps the answer on screen until the new one comes
// (a page refreshing after a write does not flash back to "Loading").
import { useCallback, useEffect, useRef, useState } from "react";

export interface Fetched<T> {
  /** null until the first answer (and again while a different `deps` loads). */
  data: T | null;
  error: unknown;
  reload: () => void;
  /** Replace the answer in place (after a write that returned the new state). */
  setData: (data: T) => void;
}

export function useApi<T>(call: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Fetched<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const shown = useRef<readonly unknown[] | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const same = shown.current !== null && shown.current.length === deps.length && shown.current.every((d, i) => Object.is(d, deps[i]));
    shown.current = deps;
    if (!same) setData(null);
    setError(null);
    call(controller.signal).then(
      (answer) => !controller.signal.aborted && setData(answer),
      (e: unknown) => !controller.signal.aborted && setError(e),
    );
    return () => controller.abort();
    // `call` is a new closure each render; what it depends on is `deps`.
  }, [...deps, attempt]);

  const reload = useCallback(() => setAttempt((a) => a + 1), []);
  return { data, error, reload, setData };
}

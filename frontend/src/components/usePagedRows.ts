// Rows of a paginated API list, fetched page by page as a VirtualTable scrolls to them.
import { useCallback, useEffect, useRef, useState } from "react";
import { pageOf, type Page } from "../api";

/** How long the visible range must hold still before its pages are fetched. */
const SETTLE_MS = 60;

export type PageFetcher<T> = (page: number, pageSize: number, signal: AbortSignal) => Promise<Page<T>>;

export interface PagedRows<T> {
  /** null until the first page answers. */
  count: number | null;
  error: unknown;
  rowAt: (index: number) => T | undefined;
  onRange: (first: number, last: number) => void;
  reload: () => void;
}

/**
 * `fetchPage` is read when a page is needed (it may change every render); `resetKey` names the list
 * (folder and ordering): when it changes everything fetched is dropped and page 1 is asked for again.
 * `onPage` sees each page's rows as they arrive (e.g. to fetch more about them).
 */
export function usePagedRows<T>(
  fetchPage: PageFetcher<T>,
  resetKey: string,
  pageSize = 200,
  onPage?: (rows: T[]) => void,
): PagedRows<T> {
  const [state, setState] = useState<{ count: number | null; pages: Record<number, T[]>; error: unknown }>({
    count: null,
    pages: {},
    error: null,
  });
  const fetcher = useRef(fetchPage);
  fetcher.current = fetchPage;
  const pageHook = useRef(onPage);
  pageHook.current = onPage;
  const asked = useRef(new Set<number>());
  const controller = useRef<AbortController | null>(null);
  const [generation, setGeneration] = useState(0);

  const load = useCallback(
    (page: number) => {
      if (asked.current.has(page) || !controller.current) return;
      asked.current.add(page);
      const signal = controller.current.signal;
      fetcher
        .current(page, pageSize, signal)
        .then((result) => {
          if (signal.aborted) return;
          setState((s) => ({ count: result.count, pages: { ...s.pages, [page]: result.results }, error: null }));
          pageHook.current?.(result.results);
        })
        .catch((error: unknown) => {
          if (signal.aborted) return;
          asked.current.delete(page);
          setState((s) => ({ ...s, error }));
        });
    },
    [pageSize],
  );

  useEffect(() => {
    controller.current = new AbortController();
    asked.current = new Set();
    setState({ count: null, pages: {}, error: null });
    load(1);
    return () => controller.current?.abort();
  }, [resetKey, generation, load]);

  // Pages are asked for once scrolling pauses, so a fling through 10,000 rows fetches the pages it
  // stops on rather than every page it passes.
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const onRange = useCallback(
    (first: number, last: number) => {
      clearTimeout(timer.current);
      timer.current = setTimeout(() => {
        for (let page = pageOf(first, pageSize); page <= pageOf(last, pageSize); page++) load(page);
      }, SETTLE_MS);
    },
    [load, pageSize],
  );
  useEffect(() => () => clearTimeout(timer.current), []);

  const rowAt = useCallback(
    (index: number) => state.pages[pageOf(index, pageSize)]?.[index % pageSize],
    [state.pages, pageSize],
  );

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { count: state.count, error: state.error, rowAt, onRange, reload };
}

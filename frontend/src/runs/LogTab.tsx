// The run's console log, a page of lines at a time, with a search that asks the server for matching
// lines only; while the run is running, new lines are fetched as they arrive.
import { useCallback, useEffect, useState } from "react";
import { ErrorState, Loading } from "../components";
import { runLog } from "./api";
import { runsEn } from "./strings";
import type { LogPage } from "./types";

const PAGE = 1000;

export function LogTab({ runId, tick }: { runId: string; tick: number }) {
  const [draft, setDraft] = useState("");
  const [q, setQ] = useState("");
  const [log, setLog] = useState<{ lines: [number, string][]; total: number; next: number | null } | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const controller = new AbortController();
    setLog(null);
    setError(null);
    runLog(runId, 0, PAGE, q, controller.signal)
      .then((page: LogPage) => setLog({ lines: page.lines, total: page.total, next: page.next_offset }))
      .catch((e: unknown) => !controller.signal.aborted && setError(e));
    return () => controller.abort();
  }, [runId, q]);

  // Live: fetch what follows the last line shown (only when everything so far is loaded).
  useEffect(() => {
    if (tick === 0 || !log || log.next !== null) return;
    const controller = new AbortController();
    const offset = log.lines.length;
    runLog(runId, offset, PAGE, q, controller.signal)
      .then((page) =>
        setLog((l) => (l && l.lines.length === offset ? { lines: [...l.lines, ...page.lines], total: page.total, next: page.next_offset } : l)),
      )
      .catch(() => undefined);
    return () => controller.abort();
  }, [tick]);

  const more = useCallback(() => {
    if (!log || log.next === null) return;
    runLog(runId, log.next, PAGE, q)
      .then((page) => setLog((l) => l && { lines: [...l.lines, ...page.lines], total: page.total, next: page.next_offset }))
      .catch(setError);
  }, [log, runId, q]);

  return (
    <div className="log-tab">
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQ(draft.trim());
        }}
      >
        <input type="search" aria-label={runsEn.log.search} placeholder={runsEn.log.search} value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button type="submit">{runsEn.filter.search}</button>
      </form>
      {error ? (
        <ErrorState error={error} />
      ) : !log ? (
        <Loading />
      ) : log.total === 0 ? (
        <p className="muted">{q ? runsEn.log.noMatch : runsEn.log.empty}</p>
      ) : (
        <>
          <p className="muted small">{runsEn.log.lines(log.lines.length, log.total)}</p>
          <pre className="log-lines" tabIndex={0}>
            {log.lines.map(([n, text]) => (
              <div key={n}>
                <span className="log-n">{n}</span>
                {text}
              </div>
            ))}
          </pre>
          {log.next !== null && (
            <button type="button" onClick={more}>
              {runsEn.log.more}
            </button>
          )}
        </>
      )}
    </div>
  );
}

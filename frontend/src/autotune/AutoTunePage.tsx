// One AutoTune search: its header (status, times, objective, tuner and trainer), progress (trials done
// vs max, elapsed vs limit, counts by status, concurrency), the best trial, the trials table and the
// charts. /autotune/:id. The page notes when it is fully drawn (data-render-ms) for the browser tests.
import { useCallback, useEffect, useRef, useState } from "react";
import { useParams } from "react-router-dom";
import { getNode } from "../api";
import { Breadcrumbs, ErrorState, formatDate, Loading, NodeIcon } from "../components";
import { useApi } from "../components/useApi";
import { formatNumber } from "../runs/chartData";
import { formatDuration } from "../runs/format";
import { JsonTree } from "../runs/JsonTree";
import { getCharts, getSearch, type Search } from "./api";
import { SearchCharts } from "./SearchCharts";
import { autotuneEn as t } from "./strings";
import { progressFractions } from "./trialStats";
import { TrialsTable } from "./TrialsTable";
import "../runs/runs.css";
import "./autotune.css";

export function AutoTunePage() {
  const { id = "" } = useParams();
  const node = useApi((signal) => getNode(id, signal), [id]);
  const search = useApi((signal) => getSearch(id, signal), [id]);
  const charts = useApi((signal) => getCharts(id, signal), [id]);
  const started = useRef(performance.now());
  const [ready, setReady] = useState({ table: false, chart: false });
  const [drawnMs, setDrawnMs] = useState<number | null>(null);
  useEffect(() => {
    if (ready.table && ready.chart && drawnMs === null) setDrawnMs(performance.now() - started.current);
  }, [ready, drawnMs]);
  const tableReady = useCallback(() => setReady((r) => (r.table ? r : { ...r, table: true })), []);
  const chartReady = useCallback(() => setReady((r) => (r.chart ? r : { ...r, chart: true })), []);

  const failed = node.error ?? search.error ?? charts.error;
  if (failed) return <ErrorState error={failed} onRetry={() => (node.reload(), search.reload(), charts.reload())} />;
  if (!node.data || !search.data || !charts.data) return <Loading label={t.loading} />;
  const s = search.data;
  const n = node.data;
  const parentPath = n.path.slice(0, n.path.lastIndexOf("/")) || "/";
  return (
    <div className="page autotune-page" data-testid="autotune-page" data-render-ms={drawnMs === null ? undefined : drawnMs.toFixed(1)}>
      <Breadcrumbs path={parentPath} />
      <section className="card header-card" aria-labelledby="search-name">
        <div className="card-title">
          <h1 id="search-name">
            <NodeIcon kind="AutoTune" /> {n.name}
          </h1>
          <span className={`badge search-status status-${s.profile.status.toLowerCase()}`}>{s.profile.status}</span>
          {s.live && <span className="badge">{t.live}</span>}
        </div>
        <dl className="facts">
          <dt>{t.objective}</dt>
          <dd data-testid="objective">
            {s.profile.objective.metric || "—"} ({t.goal[s.profile.objective.goal] ?? s.profile.objective.goal})
          </dd>
          <dt>{t.best}</dt>
          <dd data-testid="best-trial">{s.best ? t.bestLine(s.best.id, s.best.value === null ? "—" : formatNumber(s.best.value)) : t.noBest}</dd>
          <dt>{t.started}</dt>
          <dd>{formatDate(s.profile.started_at)}</dd>
          <dt>{t.ended}</dt>
          <dd>{formatDate(s.profile.ended_at)}</dd>
        </dl>
        {s.index_state === "pending" && <p className="notice">{t.indexPending}</p>}
        {s.index_state === "failed" && (
          <div className="notice notice-error" role="alert">
            <p>{t.indexFailed}</p>
            <ul>
              {s.index_errors.map((e) => (
                <li key={`${e.file}:${e.message}`}>
                  <span className="mono">{e.file}</span>: {e.message}
                </li>
              ))}
            </ul>
          </div>
        )}
        <details className="profile">
          <summary>{t.profile}</summary>
          <h3>{t.searchSpace}</h3>
          <JsonTree value={s.profile.search_space} what={t.searchSpace.toLowerCase()} />
          <h3>{t.tuner}</h3>
          <JsonTree value={s.profile.tuner} what={t.tuner.toLowerCase()} />
          <h3>{t.trainer}</h3>
          <JsonTree value={s.profile.trainer} what={t.trainer.toLowerCase()} />
        </details>
      </section>
      <ProgressCard search={s} />
      <TrialsTable search={s} charts={charts.data} onReady={tableReady} />
      <SearchCharts search={s} charts={charts.data} onReady={chartReady} />
    </div>
  );
}

function ProgressCard({ search }: { search: Search }) {
  const p = search.progress;
  const fractions = progressFractions(p);
  const finished = p.trials - (p.by_status.Running ?? 0) - (p.by_status.Waiting ?? 0);
  return (
    <section className="card progress-card" aria-label={t.progress}>
      <div className="progress-row">
        <span>{t.trialsDone(finished, p.max_trial_num)}</span>
        {fractions.trials !== null && <progress max={1} value={fractions.trials} aria-label={t.trialsDone(finished, p.max_trial_num)} />}
      </div>
      <div className="progress-row">
        <span>{t.elapsed(formatDuration(p.elapsed_seconds), p.max_exec_seconds ? formatDuration(p.max_exec_seconds) : null)}</span>
        {fractions.time !== null && <progress max={1} value={fractions.time} />}
      </div>
      <div className="progress-row">
        <span>{t.concurrency(search.profile.trial_concurrency)}</span>
        <ul className="status-counts" data-testid="status-counts">
          {Object.entries(p.by_status)
            .filter(([, count]) => count > 0)
            .map(([status, count]) => (
              <li key={status} className={`status-${status.toLowerCase()}`}>
                {status} {count.toLocaleString("en")}
              </li>
            ))}
        </ul>
      </div>
    </section>
  );
}

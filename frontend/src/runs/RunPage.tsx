// One run: overview, metrics charts, hyper-parameters, platform, git, log and files, in tabs (the tab is
// in the URL's hash so a link can open it). While the run is running everything refreshes every few seconds.
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { Breadcrumbs, ErrorState, Loading } from "../components";
import { Tabs, useHashTab } from "../components/Tabs";
import { DataFlow, lineageEn } from "../lineage";
import { getRun } from "./api";
import { FilesTab } from "./FilesTab";
import { JsonTree } from "./JsonTree";
import { LogTab } from "./LogTab";
import { MetricsTab } from "./MetricsTab";
import { NestedRuns } from "./NestedRuns";
import { OverviewTab } from "./OverviewTab";
import { StatusBadge } from "./StatusBadge";
import { runsEn } from "./strings";
import type { RunDetail } from "./types";
import "./runs.css";

const TABS = ["overview", "metrics", "hyperparameters", "platform", "git", "log", "files", "dataflow"] as const;
const TAB_NAMES: Record<string, string> = { ...runsEn.run.tabs, dataflow: lineageEn.tab };
const LIVE_MS = 5000;

export function RunPage() {
  const { id = "" } = useParams();
  const [tab, select] = useHashTab(TABS);
  const [run, setRun] = useState<RunDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setRun(null);
    setError(null);
    getRun(id, controller.signal)
      .then(setRun)
      .catch((e: unknown) => !controller.signal.aborted && setError(e));
    return () => controller.abort();
  }, [id, attempt]);

  const running = run?.run.status === "Running" || run?.index_state === "pending";
  useEffect(() => {
    if (!running) return;
    const controller = new AbortController();
    const timer = window.setInterval(() => {
      if (document.hidden) return;
      getRun(id, controller.signal)
        .then((fresh) => {
          setRun(fresh);
          setTick((n) => n + 1);
        })
        .catch(() => undefined); // the next tick tries again
    }, LIVE_MS);
    return () => {
      window.clearInterval(timer);
      controller.abort();
    };
  }, [id, running]);

  if (error) return <ErrorState error={error} onRetry={() => setAttempt((a) => a + 1)} />;
  if (!run) return <Loading label={runsEn.run.loading} />;

  const parentPath = run.path.slice(0, run.path.lastIndexOf("/")) || "/";
  return (
    <div className="run-page">
      <Breadcrumbs path={parentPath} />
      <header className="page-head">
        <h1>{run.name}</h1>
        {run.run.alternative_name && <code className="muted" title="alternativeName">{run.run.alternative_name}</code>}
        <StatusBadge status={run.run.status} />
        {running && <span className="live-dot">{runsEn.run.live}</span>}
        {run.parent_run && (
          <span className="muted">
            {runsEn.run.nestedIn} <Link to={`/runs/${run.parent_run}`}>{parentPath.slice(parentPath.lastIndexOf("/") + 1)}</Link>
          </span>
        )}
        <span className="spacer" />
        <Link className="button" to={`/runs?folder=${run.parent ?? ""}&recursive=1`}>
          {runsEn.list.title}
        </Link>
      </header>
      <Tabs label={run.name} tabs={TABS} names={TAB_NAMES} tab={tab} onSelect={select}>
        {tab === "overview" && <OverviewTab run={run} onChange={setRun} />}
        {tab === "overview" && <NestedRuns runId={run.id} />}
        {tab === "metrics" && <MetricsTab runId={run.id} metrics={run.metrics} tick={tick} />}
        {tab === "hyperparameters" && <JsonTree value={run.hyperparameters} what={runsEn.run.tabs.hyperparameters.toLowerCase()} />}
        {tab === "platform" && <JsonTree value={run.platform} what={runsEn.run.tabs.platform.toLowerCase()} />}
        {tab === "git" && <JsonTree value={run.git} what={runsEn.run.tabs.git.toLowerCase()} />}
        {tab === "log" && <LogTab runId={run.id} tick={tick} />}
        {tab === "files" && <FilesTab runId={run.id} />}
        {tab === "dataflow" && <DataFlow nodeKey={run.id} />}
      </Tabs>
    </div>
  );
}

// The data-flow graph around one node (a run, artifact, asset or version): the first answer to a
// small depth, then one step more around whichever node the reader expands. Used as the "Data flow"
// tab of run, artifact and asset pages, and as the full-screen page.
import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { EmptyState, ErrorState, FormError, Loading } from "../components";
import { getLineage } from "./api";
import { merge, type FlowGraph } from "./graphModel";
import { LineageGraph } from "./LineageGraph";
import { lineageEn } from "./strings";
import "./lineage.css";

export const DEFAULT_DEPTH = 2;

export function lineageHref(nodeKey: string, depth = DEFAULT_DEPTH): string {
  return `/lineage?node=${encodeURIComponent(nodeKey)}&depth=${depth}`;
}

interface Props {
  /** A node id, or `<asset id>:<version id>` for a version. */
  nodeKey: string;
  depth?: number;
  fullScreen?: boolean;
}

export function DataFlow({ nodeKey, depth = DEFAULT_DEPTH, fullScreen = false }: Props) {
  const [graph, setGraph] = useState<FlowGraph | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [expandError, setExpandError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [drawnMs, setDrawnMs] = useState<number | null>(null);
  const started = useRef(0);

  useEffect(() => {
    const controller = new AbortController();
    setGraph(null);
    setError(null);
    setDrawnMs(null);
    started.current = performance.now();
    getLineage(nodeKey, depth, controller.signal).then(
      (answer) => !controller.signal.aborted && setGraph(merge(null, answer)),
      (e: unknown) => !controller.signal.aborted && setError(e),
    );
    return () => controller.abort();
  }, [nodeKey, depth, attempt]);

  const expand = useCallback((key: string) => {
    setBusy(key);
    setExpandError(null);
    getLineage(key, 1)
      .then((answer) => setGraph((g) => merge(g, answer)))
      .catch(setExpandError)
      .finally(() => setBusy(null));
  }, []);

  const onDrawn = useCallback(() => setDrawnMs((ms) => ms ?? performance.now() - started.current), []);

  if (error) return <ErrorState error={error} onRetry={() => setAttempt((a) => a + 1)} />;
  if (!graph) return <Loading label={lineageEn.loading} />;
  const lonely = graph.nodes.size <= 1 && graph.edges.size === 0;
  return (
    <section
      className={fullScreen ? "dataflow dataflow-full" : "dataflow"}
      aria-label={lineageEn.title}
      data-testid="dataflow"
      data-render-ms={drawnMs === null ? undefined : drawnMs.toFixed(1)}
    >
      <div className="dataflow-head">
        <span className="muted" data-testid="dataflow-counts">
          {lineageEn.counts(graph.nodes.size, graph.edges.size)}
        </span>
        <span className="legend" aria-hidden="true">
          <span className="legend-square" /> {lineageEn.legend.run}
          <span className="legend-circle" /> {lineageEn.legend.data}
        </span>
        <span className="spacer" />
        {!fullScreen && (
          <Link className="button" to={lineageHref(nodeKey, depth)}>
            {lineageEn.fullScreen}
          </Link>
        )}
      </div>
      {graph.hidden > 0 && (
        <p className="notice" data-testid="dataflow-hidden">
          {lineageEn.hidden(graph.hidden)}
        </p>
      )}
      {graph.truncated && <p className="notice">{lineageEn.truncated}</p>}
      <FormError error={expandError} />
      {lonely && graph.hidden === 0 ? (
        <EmptyState title={lineageEn.empty} hint={lineageEn.emptyHint} />
      ) : (
        <>
          <p className="muted small">{lineageEn.help}</p>
          <LineageGraph graph={graph} onExpand={expand} busy={busy} onDrawn={onDrawn} />
        </>
      )}
    </section>
  );
}

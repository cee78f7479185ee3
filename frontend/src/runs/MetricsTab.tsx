// The Metrics tab: one chart per metric of the chosen stage, fetched at about one point per pixel of
// chart width (the server downsamples, keeping each bucket's min and max as a band), with smoothing,
// log scale, x-axis modes and drag-zoom.
import { useEffect, useMemo, useRef, useState } from "react";
import { ErrorState, Loading } from "../components";
import { metricHistory } from "./api";
import { STAGES, X_MODES, fetchAxis, shapeHistory, stageOf, uplotData, type Stage, type XMode } from "./chartData";
import { runsEn } from "./strings";
import type { History, MetricSummary } from "./types";
import { PALETTE, UPlotChart } from "./UPlotChart";

export interface ChartOptions {
  x: XMode;
  smoothing: number;
  log: boolean;
}

/** The controls shared by the run page's and the compare page's charts. */
export function ChartControls({ value, onChange }: { value: ChartOptions; onChange: (v: ChartOptions) => void }) {
  return (
    <div className="chart-controls">
      <label>
        {runsEn.metrics.xAxis}{" "}
        <select value={value.x} onChange={(e) => onChange({ ...value, x: e.target.value as XMode })}>
          {X_MODES.map((m) => (
            <option key={m} value={m}>
              {runsEn.metrics.xModes[m]}
            </option>
          ))}
        </select>
      </label>
      <label>
        {runsEn.metrics.smoothing}{" "}
        <input
          type="range"
          min={0}
          max={0.99}
          step={0.01}
          value={value.smoothing}
          onChange={(e) => onChange({ ...value, smoothing: Number(e.target.value) })}
        />{" "}
        <output>{value.smoothing.toFixed(2)}</output>
      </label>
      <label className="inline-check">
        <input type="checkbox" checked={value.log} onChange={(e) => onChange({ ...value, log: e.target.checked })} />
        {runsEn.metrics.logScale}
      </label>
      <span className="muted">{runsEn.metrics.zoomHint}</span>
    </div>
  );
}

export function MetricsTab({ runId, metrics, tick }: { runId: string; metrics: Record<string, MetricSummary>; tick: number }) {
  const keys = Object.keys(metrics).sort();
  const counts = useMemo(() => {
    const c: Record<Stage, number> = { train: 0, val: 0, test: 0, other: 0 };
    for (const k of keys) c[stageOf(k)]++;
    return c;
  }, [keys]);
  const firstStage = STAGES.find((s) => counts[s] > 0) ?? "train";
  const [stage, setStage] = useState<Stage | null>(null);
  const shown = stage ?? firstStage;
  const [options, setOptions] = useState<ChartOptions>({ x: "step", smoothing: 0, log: false });

  if (keys.length === 0) return <p className="muted">{runsEn.metrics.noneAtAll}</p>;
  const inStage = keys.filter((k) => stageOf(k) === shown);
  return (
    <div className="metrics-tab">
      <div className="segmented" role="radiogroup" aria-label={runsEn.metrics.stage}>
        {STAGES.map((s) => (
          <button
            key={s}
            type="button"
            role="radio"
            aria-checked={s === shown}
            className={s === shown ? "active" : undefined}
            onClick={() => setStage(s)}
            disabled={counts[s] === 0}
          >
            {runsEn.metrics.stages[s]} ({counts[s]})
          </button>
        ))}
      </div>
      <ChartControls value={options} onChange={setOptions} />
      {inStage.length === 0 ? (
        <p className="muted">{runsEn.metrics.none}</p>
      ) : (
        <div className="chart-grid">
          {inStage.map((key) => (
            <MetricPanel key={key} runId={runId} metricKey={key} options={options} tick={tick} />
          ))}
        </div>
      )}
    </div>
  );
}

declare global {
  interface Window {
    /** Milliseconds from the page's start to each chart's first draw (read by the browser tests). */
    __emChartTimes?: Record<string, number>;
  }
}

function MetricPanel({ runId, metricKey, options, tick }: { runId: string; metricKey: string; options: ChartOptions; tick: number }) {
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<{ history: History | null; error: unknown }>({ history: null, error: null });
  const [firstMs, setFirstMs] = useState<number | null>(null);
  const axis = fetchAxis(options.x);

  useEffect(() => {
    const controller = new AbortController();
    // About one point per pixel: more would not show, fewer would hide detail.
    const width = box.current?.clientWidth || 600;
    const maxPoints = Math.max(100, Math.min(4000, Math.round(width)));
    metricHistory(runId, metricKey, maxPoints, axis, controller.signal)
      .then((history) => setState({ history, error: null }))
      .catch((error: unknown) => !controller.signal.aborted && setState((s) => ({ ...s, error })));
    return () => controller.abort();
  }, [runId, metricKey, axis, tick]);

  const shaped = useMemo(() => (state.history ? shapeHistory(state.history, options.x) : null), [state.history, options.x]);
  const plotted = useMemo(
    () => (shaped ? uplotData(shaped, { smoothing: options.smoothing, log: options.log }) : null),
    [shaped, options.smoothing, options.log],
  );
  const series = useMemo(() => [{ label: metricKey, color: PALETTE[0] }], [metricKey]);

  return (
    <section className="chart-card" ref={box} data-metric={metricKey} data-render-ms={firstMs ?? undefined}>
      <h3>{metricKey}</h3>
      {state.error ? (
        <ErrorState error={state.error} />
      ) : !plotted || !state.history ? (
        <Loading />
      ) : (
        <>
          <UPlotChart
            data={plotted.data}
            series={series}
            band={plotted.band}
            log={options.log}
            timeAxis={options.x === "wall"}
            xLabel={runsEn.metrics.xModes[options.x]}
            onFirstDraw={() => {
              const ms = performance.now();
              window.__emChartTimes = { ...window.__emChartTimes, [metricKey]: ms };
              setFirstMs(ms);
            }}
          />
          <p className="muted small">{runsEn.metrics.points(shaped?.x.length ?? 0, state.history.count)}</p>
        </>
      )}
    </section>
  );
}

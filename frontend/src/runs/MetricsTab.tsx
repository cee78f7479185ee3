// The Metrics tab: one chart per metric name with its train, val and test series together, fetched at
// about one point per pixel of chart width (the server downsamples, keeping a lone series' bucket min
// and max as a band), with smoothing (the raw curve stays, faded, behind), log scale, x-axis modes and
// drag-zoom.
import { useEffect, useMemo, useRef, useState } from "react";
import { ErrorState, Loading } from "../components";
import { metricHistory } from "./api";
import { X_MODES, fetchAxis, groupByName, stagesChart, type XMode } from "./chartData";
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
  const groups = useMemo(() => groupByName(keys), [keys.join(",")]);
  const [options, setOptions] = useState<ChartOptions>({ x: "step", smoothing: 0, log: false });

  if (keys.length === 0) return <p className="muted">{runsEn.metrics.noneAtAll}</p>;
  return (
    <div className="metrics-tab">
      <ChartControls value={options} onChange={setOptions} />
      <div className="chart-grid">
        {groups.map(([name, groupKeys]) => (
          <MetricPanel key={name} runId={runId} name={name} keys={groupKeys} options={options} tick={tick} />
        ))}
      </div>
    </div>
  );
}

declare global {
  interface Window {
    /** Milliseconds from the page's start to each chart's first draw (read by the browser tests). */
    __emChartTimes?: Record<string, number>;
  }
}

/** One chart for one metric name: every stage of it (`train.loss`, `val.loss`) on the same axes. */
function MetricPanel(props: { runId: string; name: string; keys: string[]; options: ChartOptions; tick: number }) {
  const { runId, name, keys, options, tick } = props;
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<{ histories: History[] | null; error: unknown }>({ histories: null, error: null });
  const [firstMs, setFirstMs] = useState<number | null>(null);
  const axis = fetchAxis(options.x);
  const keyList = keys.join(",");

  useEffect(() => {
    const controller = new AbortController();
    // About one point per pixel: more would not show, fewer would hide detail.
    const width = box.current?.clientWidth || 600;
    const maxPoints = Math.max(100, Math.min(4000, Math.round(width)));
    Promise.all(keys.map((key) => metricHistory(runId, key, maxPoints, axis, controller.signal)))
      .then((histories) => setState({ histories, error: null }))
      .catch((error: unknown) => !controller.signal.aborted && setState((s) => ({ ...s, error })));
    return () => controller.abort();
  }, [runId, keyList, axis, tick]);

  const chart = useMemo(
    () => (state.histories ? stagesChart(state.histories, options.x, { smoothing: options.smoothing, log: options.log }) : null),
    [state.histories, options.x, options.smoothing, options.log],
  );
  const series = useMemo(
    () =>
      chart?.lines.map((line) => ({ label: line.label, color: PALETTE[line.slot % PALETTE.length], faded: line.raw, dots: line.dots })) ??
      [],
    [chart],
  );

  return (
    <section className="chart-card" ref={box} data-metric={keyList} data-name={name} data-render-ms={firstMs ?? undefined}>
      <h3>{keys.length > 1 ? name : keys[0]}</h3>
      {state.error ? (
        <ErrorState error={state.error} />
      ) : !chart || !state.histories ? (
        <Loading />
      ) : (
        <>
          <UPlotChart
            data={chart.data}
            series={series}
            band={chart.band}
            log={options.log}
            timeAxis={options.x === "wall"}
            xLabel={runsEn.metrics.xModes[options.x]}
            onFirstDraw={() => {
              const ms = performance.now();
              window.__emChartTimes = { ...window.__emChartTimes, [keyList]: ms };
              setFirstMs(ms);
            }}
          />
          <p className="muted small">
            {state.histories
              .map((h) => (keys.length > 1 ? `${h.key}: ` : "") + runsEn.metrics.points(h.value.length, h.count))
              .join(" · ")}
          </p>
        </>
      )}
    </section>
  );
}

// Runs side by side, from any folders: their attributes, parameters and metrics aligned by key (rows on
// which all agree can be hidden; times and durations as people read them), overlaid metric charts (one
// shared legend when there are many runs, fetched a metric at a time so the first draws at once), and
// any two numbers plotted against each other (parallel coordinates, scatter, contour; plotly loads only
// when that section scrolls into view).
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { EmptyState, ErrorState, Loading } from "../components";
import { compareRuns, histories } from "./api";
import { cellText, fetchAxis, visibleRows } from "./chartData";
import { formatDuration, formatShortTime } from "./format";
import { completeRows, numericColumns, overlay, type NumericColumn } from "./compareData";
import { ChartControls, type ChartOptions } from "./MetricsTab";
import { PlotlyChart } from "./PlotlyChart";
import { runsEn } from "./strings";
import type { CompareResult, CompareRow, History, RunRow } from "./types";
import { PALETTE, UPlotChart } from "./UPlotChart";
import "./runs.css";

const c = runsEn.compare;
const LEGEND_MAX = 8; // more runs than this: one shared legend above the charts, none inside each
const FETCH_AT_ONCE = 3; // metric requests in flight: the first chart need not wait for all of them

/** Points a series when `runs` share a chart: with many, 300 across 500 pixels look the same as more. */
const pointsFor = (runs: number) => (runs > 20 ? 300 : 800);

/** The first chart's data, asked for the moment the comparison arrives (before its tables render), and
 * handed to the charts when they mount. */
let firstHistories: { request: string; answer: Promise<{ series: History[] }> } | null = null;

function askFirstHistories(result: CompareResult) {
  const runIds = result.runs.map((r) => r.id);
  const key = result.metrics[0]?.key;
  if (!key) return;
  const maxPoints = pointsFor(runIds.length);
  const answer = histories(runIds, [key], maxPoints, "step");
  answer.catch(() => undefined); // a failure is reported by the chart that takes it
  firstHistories = { request: JSON.stringify([runIds, key, maxPoints, "step"]), answer };
}

function takeFirstHistories(runIds: string[], key: string, maxPoints: number, axis: string) {
  const held = firstHistories;
  firstHistories = null;
  return held?.request === JSON.stringify([runIds, key, maxPoints, axis]) ? held.answer : undefined;
}

/** A distinct colour per run: the palette for a few, evenly spread hues (golden angle) for many. */
export function runColor(slot: number, count: number): string {
  if (count <= PALETTE.length) return PALETTE[slot % PALETTE.length];
  return `hsl(${Math.round((slot * 137.508) % 360)}, 65%, ${slot % 2 ? 38 : 50}%)`;
}

/** A compare cell as people read it: dates for start/end, durations, numbers rounded (full on hover). */
function attributeText(key: string, value: unknown): string {
  if (value === null || value === undefined) return "—";
  if ((key === "start" || key === "end") && typeof value === "string") return formatShortTime(value);
  if (key === "duration" && typeof value === "number") return formatDuration(value);
  return cellText(value);
}

export function ComparePage() {
  const [params, setParams] = useSearchParams();
  const ids = useMemo(
    () => [...new Set((params.get("runs") ?? "").split(",").map((s) => s.trim()).filter(Boolean))],
    [params],
  );
  const [result, setResult] = useState<CompareResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [hide, setHide] = useState(false);
  const key = ids.join(",");

  useEffect(() => {
    if (ids.length < 2) return;
    const controller = new AbortController();
    setResult(null);
    setError(null);
    compareRuns(ids, controller.signal)
      .then((answer) => {
        askFirstHistories(answer);
        setResult(answer);
      })
      .catch((e: unknown) => !controller.signal.aborted && setError(e));
    return () => controller.abort();
  }, [key]);

  const remove = (id: string) => setParams({ runs: ids.filter((x) => x !== id).join(",") });

  if (ids.length < 2) return <EmptyState title={c.title} hint={c.tooFew} />;
  if (error) return <ErrorState error={error} />;
  if (!result) return <Loading />;
  const runIds = result.runs.map((r) => r.id);
  return (
    <div className="compare-page">
      <header className="page-head">
        <h1>{c.title}</h1>
        <span className="spacer" />
        <label className="inline-check">
          <input type="checkbox" checked={hide} onChange={(e) => setHide(e.target.checked)} data-testid="hide-identical" />
          {c.hideIdentical}
        </label>
      </header>
      <CompareTable title={c.attributes} runs={result.runs} rows={visibleRows(result.attributes, hide)} onRemove={remove} />
      <CompareTable title={c.params} runs={result.runs} rows={visibleRows(result.params, hide)} onRemove={remove} />
      <CompareTable title={c.metrics} runs={result.runs} rows={visibleRows(result.metrics, hide)} onRemove={remove} />
      <OverlaidCharts runs={result.runs} runIds={runIds} keys={result.metrics.map((m) => m.key)} />
      <WhenVisible>
        <ParamPlots result={result} />
      </WhenVisible>
    </div>
  );
}

function CompareTable(props: { title: string; runs: RunRow[]; rows: CompareRow[]; onRemove: (id: string) => void }) {
  const { title, runs, rows, onRemove } = props;
  return (
    <section className="compare-section">
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">{c.allSame}</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table compare-table">
            <thead>
              <tr>
                <th scope="col" />
                {runs.map((run, i) => (
                  <th scope="col" key={run.id}>
                    <span className="swatch" style={{ background: runColor(i, runs.length) }} aria-hidden="true" />
                    <Link to={`/runs/${run.id}`} title={run.path}>
                      {run.name}
                    </Link>{" "}
                    <button type="button" className="icon" aria-label={c.removeRun(run.name)} onClick={() => onRemove(run.id)}>
                      ×
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.key} className={row.all_equal ? "same" : "differs"}>
                  <th scope="row">{row.key}</th>
                  {row.values.map((v, i) => (
                    <td
                      key={i}
                      className={
                        row.key === "path" && title === c.attributes
                          ? "folder-cell"
                          : typeof v === "number" || (v !== null && typeof v === "object")
                            ? "num"
                            : undefined
                      }
                      title={v !== null && v !== undefined ? (typeof v === "object" ? JSON.stringify(v) : String(v)) : undefined}
                    >
                      {attributeText(title === c.attributes ? row.key : "", v)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const PLOTS_AFTER_MS = 2500; // the plots load by then anyway, once the first charts have had the network and CPU

/** Renders its children once they come near the viewport, or a little after the page opened: plotly
 * (several MB) is not fetched, parsed or run while the tables and the first charts are drawing. */
function WhenVisible({ children }: { children: React.ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const el = box.current;
    if (!el || seen) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setSeen(true), {
      rootMargin: "200px",
    });
    observer.observe(el);
    const later = window.setTimeout(() => setSeen(true), PLOTS_AFTER_MS);
    return () => {
      observer.disconnect();
      window.clearTimeout(later);
    };
  }, [seen]);
  return <div ref={box}>{seen ? children : <div className="compare-section placeholder" style={{ minHeight: "6rem" }} />}</div>;
}

function OverlaidCharts({ runs, runIds, keys }: { runs: RunRow[]; runIds: string[]; keys: string[] }) {
  const [options, setOptions] = useState<ChartOptions>({ x: "step", smoothing: 0, log: false });
  const [data, setData] = useState<Record<string, History[]>>({});
  const [error, setError] = useState<unknown>(null);
  const axis = fetchAxis(options.x);
  const shownKeys = keys.slice(0, Math.max(1, Math.floor(1000 / Math.max(1, runIds.length))));
  const maxPoints = pointsFor(runIds.length);
  const request = JSON.stringify([runIds, shownKeys, axis, maxPoints]);
  useEffect(() => {
    if (shownKeys.length === 0) return;
    const controller = new AbortController();
    setData({});
    setError(null);
    // A metric a request, a few at a time and in the page's order, so the first chart draws once its own
    // data is here rather than when every metric of every run is.
    // The first metric goes alone (it was asked for as soon as the comparison arrived, see
    // `firstHistories`), the others follow a few at a time.
    const [first, ...rest] = shownKeys;
    const queue = [...rest];
    const fetchOne = async (key: string, answer?: Promise<{ series: History[] }>) => {
      const got = await (answer ?? histories(runIds, [key], maxPoints, axis, controller.signal));
      if (!controller.signal.aborted) setData((d) => ({ ...d, [key]: got.series }));
    };
    const worker = async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) await fetchOne(key);
    };
    fetchOne(first, takeFirstHistories(runIds, first, maxPoints, axis))
      .then(() => Promise.all(Array.from({ length: FETCH_AT_ONCE }, worker)))
      .catch((e: unknown) => !controller.signal.aborted && setError(e));
    return () => controller.abort();
  }, [request]);
  const charts = useMemo(
    () => overlay(Object.values(data).flat(), runIds, options.x, options),
    [data, runIds, options],
  );
  const series = useMemo(() => runs.map((run, slot) => ({ label: run.name, color: runColor(slot, runs.length) })), [runs]);
  if (keys.length === 0) return null;
  const shared = runs.length > LEGEND_MAX;
  return (
    <section className="compare-section">
      <h2>{c.charts}</h2>
      <ChartControls value={options} onChange={setOptions} />
      {shared && (
        <ul className="shared-legend" aria-label={c.legend} data-testid="shared-legend">
          {series.map((s) => (
            <li key={s.label + s.color} title={s.label}>
              <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
              {s.label}
            </li>
          ))}
        </ul>
      )}
      {error ? (
        <ErrorState error={error} />
      ) : (
        <div className="chart-grid">
          {shownKeys.map((key) => {
            const chart = charts.get(key);
            return (
              <section className="chart-card" key={key} data-metric={key}>
                <h3>{key}</h3>
                {!(key in data) ? (
                  <Loading />
                ) : !chart ? (
                  <p className="muted">{c.noHistory}</p>
                ) : (
                  <ChartOf chartKey={key} chart={chart} series={series} options={options} legend={!shared} />
                )}
              </section>
            );
          })}
        </div>
      )}
    </section>
  );
}

function ChartOf(props: {
  chartKey: string;
  chart: { data: (number | null | undefined)[][]; runs: number[] };
  series: { label: string; color: string }[];
  options: ChartOptions;
  legend: boolean;
}) {
  const { chartKey, chart, series, options, legend } = props;
  const [firstMs, setFirstMs] = useState<number | null>(null);
  const lines = useMemo(() => chart.runs.map((slot) => series[slot]), [chart, series]);
  return (
    <div data-render-ms={firstMs ?? undefined}>
      <UPlotChart
        data={chart.data}
        series={lines}
        log={options.log}
        timeAxis={options.x === "wall"}
        xLabel={runsEn.metrics.xModes[options.x]}
        legend={legend}
        onFirstDraw={() => {
          const ms = performance.now();
          window.__emChartTimes = { ...window.__emChartTimes, [`compare:${chartKey}`]: ms };
          setFirstMs(ms);
        }}
      />
    </div>
  );
}

type PlotKind = "parallel" | "scatter" | "contour";

function ParamPlots({ result }: { result: CompareResult }) {
  const { params, metrics } = useMemo(() => numericColumns(result), [result]);
  // Either axis of a scatter or contour may be any number: a parameter or a metric's latest value.
  const numbers = useMemo(
    () => [...params, ...metrics.map((m) => ({ ...m, key: `metrics.${m.key}` }))],
    [params, metrics],
  );
  const [kind, setKind] = useState<PlotKind>("parallel");
  const [xKey, setX] = useState(params[0]?.key ?? numbers[0]?.key ?? "");
  const [yKey, setY] = useState(
    metrics[0] ? `metrics.${metrics[0].key}` : (params[1]?.key ?? params[0]?.key ?? ""),
  );
  const [mKey, setM] = useState(metrics[0]?.key ?? "");
  const [logX, setLogX] = useState(false);
  const [logY, setLogY] = useState(false);
  const names = result.runs.map((r) => r.name);
  const find = (list: NumericColumn[], key: string) => list.find((col) => col.key === key);
  const metric = find(metrics, mKey);

  const figure = useMemo(() => {
    if (!metric) return null;
    const colour = { color: metric.values, colorscale: "Viridis", showscale: true, colorbar: { title: { text: metric.key } } };
    const axes = (x: string, y: string) => ({
      xaxis: { title: { text: x }, type: logX ? "log" : "linear" },
      yaxis: { title: { text: y }, type: logY ? "log" : "linear" },
    });
    if (kind === "parallel") {
      if (params.length === 0) return null;
      const rows = completeRows([...params, metric]);
      if (rows.length < 2) return null;
      const dims = [...params, metric].map((col) => ({ label: col.key, values: rows.map((i) => col.values[i]) }));
      return {
        data: [{ type: "parcoords", line: { ...colour, color: rows.map((i) => metric.values[i]) }, dimensions: dims }],
        layout: { height: 420 },
      };
    }
    const x = find(numbers, xKey);
    const y = find(numbers, yKey);
    if (!x || !y) return null;
    if (kind === "scatter") {
      const rows = completeRows([x, y, metric]);
      if (rows.length < 2) return null;
      return {
        data: [
          {
            type: "scatter",
            mode: "markers",
            x: rows.map((i) => x.values[i]),
            y: rows.map((i) => y.values[i]),
            text: rows.map((i) => names[i]),
            marker: { size: 10, ...colour, color: rows.map((i) => metric.values[i]) },
          },
        ],
        layout: { height: 420, ...axes(x.key, y.key) },
      };
    }
    const rows = completeRows([x, y, metric]);
    if (rows.length < 3) return null;
    return {
      data: [
        {
          type: "contour",
          x: rows.map((i) => x.values[i]),
          y: rows.map((i) => y.values[i]),
          z: rows.map((i) => metric.values[i]),
          colorscale: "Viridis",
          colorbar: { title: { text: metric.key } },
          connectgaps: true,
        },
        { type: "scatter", mode: "markers", x: rows.map((i) => x.values[i]), y: rows.map((i) => y.values[i]), text: rows.map((i) => names[i]), marker: { color: "#fff", line: { width: 1 } }, showlegend: false },
      ],
      layout: { height: 420, ...axes(x.key, y.key) },
    };
  }, [kind, params, numbers, metric, xKey, yKey, names, logX, logY]);

  if (numbers.length === 0 || metrics.length === 0) return null;
  const select = (label: string, value: string, onChange: (v: string) => void, list: NumericColumn[]) => (
    <label>
      {label}{" "}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {list.map((col) => (
          <option key={col.key} value={col.key}>
            {col.key}
          </option>
        ))}
      </select>
    </label>
  );
  const check = (label: string, value: boolean, onChange: (v: boolean) => void) => (
    <label className="inline-check">
      <input type="checkbox" checked={value} onChange={(e) => onChange(e.target.checked)} />
      {label}
    </label>
  );
  return (
    <section className="compare-section">
      <h2>{c.plots}</h2>
      <div className="chart-controls">
        <div className="segmented" role="radiogroup" aria-label={c.plots}>
          {(["parallel", "scatter", "contour"] as const).map((k) => (
            <button key={k} type="button" role="radio" aria-checked={k === kind} className={k === kind ? "active" : undefined} onClick={() => setKind(k)}>
              {c[k]}
            </button>
          ))}
        </div>
        {kind !== "parallel" && select(c.xParam, xKey, setX, numbers)}
        {kind !== "parallel" && select(c.yParam, yKey, setY, numbers)}
        {select(c.colour, mKey, setM, metrics)}
        {kind !== "parallel" && check(c.logX, logX, setLogX)}
        {kind !== "parallel" && check(c.logY, logY, setLogY)}
      </div>
      {figure ? <PlotlyChart data={figure.data as never} layout={figure.layout as never} label={c[kind]} /> : <p className="muted">{c.needNumbers}</p>}
    </section>
  );
}

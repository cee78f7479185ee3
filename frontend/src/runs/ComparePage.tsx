// Runs side by side, from any folders: their attributes, parameters and metrics aligned by key (rows on
// which all agree can be hidden), overlaid metric charts, and parameters plotted against metrics
// (parallel coordinates, scatter, contour; plotly loads only when they are shown).
import { useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { EmptyState, ErrorState, Loading } from "../components";
import { compareRuns, histories } from "./api";
import { cellText, fetchAxis, visibleRows } from "./chartData";
import { completeRows, numericColumns, overlay, type NumericColumn } from "./compareData";
import { ChartControls, type ChartOptions } from "./MetricsTab";
import { PlotlyChart } from "./PlotlyChart";
import { runsEn } from "./strings";
import type { CompareResult, CompareRow, History, RunRow } from "./types";
import { PALETTE, UPlotChart } from "./UPlotChart";
import "./runs.css";

const c = runsEn.compare;

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
      .then(setResult)
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
      <ParamPlots result={result} />
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
                    <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} aria-hidden="true" />
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
                    <td key={i} className={typeof v === "number" ? "num" : undefined}>
                      {cellText(v)}
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

function OverlaidCharts({ runs, runIds, keys }: { runs: RunRow[]; runIds: string[]; keys: string[] }) {
  const [options, setOptions] = useState<ChartOptions>({ x: "step", smoothing: 0, log: false });
  const [data, setData] = useState<History[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const axis = fetchAxis(options.x);
  const shownKeys = keys.slice(0, Math.max(1, Math.floor(1000 / Math.max(1, runIds.length))));
  const request = JSON.stringify([runIds, shownKeys, axis]);
  useEffect(() => {
    if (shownKeys.length === 0) return;
    const controller = new AbortController();
    setData(null);
    histories(runIds, shownKeys, 800, axis, controller.signal)
      .then((r) => setData(r.series))
      .catch((e: unknown) => !controller.signal.aborted && setError(e));
    return () => controller.abort();
  }, [request]);
  const charts = useMemo(
    () => (data ? overlay(data, runIds, options.x, options) : null),
    [data, runIds, options],
  );
  if (keys.length === 0) return null;
  return (
    <section className="compare-section">
      <h2>{c.charts}</h2>
      <ChartControls value={options} onChange={setOptions} />
      {error ? (
        <ErrorState error={error} />
      ) : !charts ? (
        <Loading />
      ) : (
        <div className="chart-grid">
          {[...charts].map(([key, chart]) => (
            <section className="chart-card" key={key} data-metric={key}>
              <h3>{key}</h3>
              <UPlotChart
                data={chart.data}
                series={chart.runs.map((slot) => ({ label: runs[slot].name, color: PALETTE[slot % PALETTE.length] }))}
                log={options.log}
                timeAxis={options.x === "wall"}
                xLabel={runsEn.metrics.xModes[options.x]}
              />
            </section>
          ))}
        </div>
      )}
    </section>
  );
}

type PlotKind = "parallel" | "scatter" | "contour";

function ParamPlots({ result }: { result: CompareResult }) {
  const { params, metrics } = useMemo(() => numericColumns(result), [result]);
  const [kind, setKind] = useState<PlotKind>("parallel");
  const [xKey, setX] = useState(params[0]?.key ?? "");
  const [yKey, setY] = useState(params[1]?.key ?? params[0]?.key ?? "");
  const [mKey, setM] = useState(metrics[0]?.key ?? "");
  const names = result.runs.map((r) => r.name);
  const find = (list: NumericColumn[], key: string) => list.find((col) => col.key === key);
  const metric = find(metrics, mKey);

  const figure = useMemo(() => {
    if (!metric || params.length === 0) return null;
    const colour = { color: metric.values, colorscale: "Viridis", showscale: true, colorbar: { title: { text: metric.key } } };
    if (kind === "parallel") {
      const rows = completeRows([...params, metric]);
      if (rows.length < 2) return null;
      const dims = [...params, metric].map((col) => ({ label: col.key, values: rows.map((i) => col.values[i]) }));
      return {
        data: [{ type: "parcoords", line: { ...colour, color: rows.map((i) => metric.values[i]) }, dimensions: dims }],
        layout: { height: 420 },
      };
    }
    const x = find(params, xKey);
    if (!x) return null;
    if (kind === "scatter") {
      const rows = completeRows([x, metric]);
      if (rows.length < 2) return null;
      return {
        data: [
          {
            type: "scatter",
            mode: "markers",
            x: rows.map((i) => x.values[i]),
            y: rows.map((i) => metric.values[i]),
            text: rows.map((i) => names[i]),
            marker: { size: 10, ...colour, color: rows.map((i) => metric.values[i]) },
          },
        ],
        layout: { height: 420, xaxis: { title: { text: x.key } }, yaxis: { title: { text: metric.key } } },
      };
    }
    const y = find(params, yKey);
    if (!y) return null;
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
      layout: { height: 420, xaxis: { title: { text: x.key } }, yaxis: { title: { text: y.key } } },
    };
  }, [kind, params, metric, xKey, yKey, names]);

  if (params.length === 0 || metrics.length === 0) return null;
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
        {kind !== "parallel" && select(c.xParam, xKey, setX, params)}
        {kind === "contour" && select(c.yParam, yKey, setY, params)}
        {select(c.colour, mKey, setM, metrics)}
      </div>
      {figure ? <PlotlyChart data={figure.data} layout={figure.layout} label={c[kind]} /> : <p className="muted">{c.needNumbers}</p>}
    </section>
  );
}

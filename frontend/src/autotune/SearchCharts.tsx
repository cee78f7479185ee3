// The search's charts: final value per trial with the best-so-far line, parallel coordinates of the
// parameters against the objective (filtered to the top share of trials), durations, and the
// intermediate values of the trials. Drawn with the run pages' chart components: uPlot for the lines,
// plotly (several MB, loaded when first scrolled to) for parallel coordinates only.
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { alignSeries, type Num } from "../runs/chartData";
import { PlotlyChart } from "../runs/PlotlyChart";
import { PALETTE, UPlotChart } from "../runs/UPlotChart";
import { getTrial, listTrials, type Charts, type Search, type TrialDetail } from "./api";
import { autotuneEn as t } from "./strings";
import { durationSeries, paramKeys, parallelDimensions, topTrials, valuesSeries } from "./trialStats";

const TOP = [100, 50, 25, 10, 5];
/** Trials whose intermediate values are drawn at first (the best ones); the rest on request. */
const FIRST_CURVES = 30;
const PARALLEL_FETCHES = 6;
const STATUS_COLOUR: Record<string, string> = { Succeeded: "#16a34a", Pruned: "#ca8a04", Failed: "#dc2626", Running: "#2563eb" };

export function SearchCharts({ search, charts, onReady }: { search: Search; charts: Charts; onReady: () => void }) {
  const goal = search.profile.objective.goal;
  const metric = charts.objective.metric || "value";
  const [top, setTop] = useState(100);
  const values = useMemo(() => valuesSeries(charts), [charts]);
  const valueSeries = useMemo(() => [{ label: metric, color: PALETTE[0] }, { label: t.bestSoFar, color: PALETTE[1] }], [metric]);
  const keys = useMemo(() => paramKeys(charts), [charts]);
  const parallel = useMemo(() => {
    const rows = topTrials(charts, goal, top);
    return [
      {
        type: "parcoords",
        line: { color: rows.map((i) => charts.parallel.value[i]), colorscale: "Viridis", showscale: true, reversescale: goal === "minimize" },
        dimensions: parallelDimensions(charts, keys, rows),
      },
    ];
  }, [charts, goal, top, keys]);
  const durations = useMemo(() => durationSeries(charts), [charts]);
  const durationLines = useMemo(
    () => durations.labels.map((status) => ({ label: status, color: STATUS_COLOUR[status] ?? "#6b7280" })),
    [durations],
  );
  // Room above the axes for the parameters' names (plotly draws them over the top margin).
  const parallelLayout = useMemo(() => ({ height: 400, margin: { l: 60, r: 40, t: 70, b: 30 } }), []);
  useEffect(() => {
    if (values[0].length === 0) onReady(); // nothing to draw: the page is complete without it
  }, [values, onReady]);

  return (
    <section className="card charts" aria-label={t.charts}>
      <h2>{t.charts}</h2>
      <div className="chart-grid">
        <figure className="chart-card" data-chart="values">
          <figcaption>{t.valuesChart}</figcaption>
          {values[0].length > 0 ? <UPlotChart data={values} series={valueSeries} xLabel={t.col.id} onFirstDraw={onReady} /> : <p className="muted">{t.noBest}</p>}
        </figure>
        <figure className="chart-card" data-chart="durations">
          <figcaption>{t.durationsChart}</figcaption>
          <UPlotChart data={durations.data} series={durationLines} xLabel={t.col.id} />
        </figure>
        <figure className="chart-card chart-wide" data-chart="parallel">
          <figcaption>
            {t.parallelChart}{" "}
            <label className="inline-field">
              {t.top}
              <select value={top} onChange={(e) => setTop(Number(e.target.value))} data-testid="top-percent">
                {TOP.map((p) => (
                  <option key={p} value={p}>
                    {t.topOption(p)}
                  </option>
                ))}
              </select>
            </label>
          </figcaption>
          <WhenVisible height="380px">
            <PlotlyChart data={parallel} layout={parallelLayout} label={t.parallelChart} />
          </WhenVisible>
        </figure>
        <WhenVisible height="300px" wide>
          <IntermediateChart search={search} total={search.progress.trials} />
        </WhenVisible>
      </div>
    </section>
  );
}

/**
 * Its children once it comes near the screen. Plotly's figures (parallel coordinates draw with WebGL)
 * and the intermediate values' requests cost seconds on a slow machine; below the fold they must not
 * hold up the table and the first chart.
 */
function WhenVisible({ height, wide, children }: { height: string; wide?: boolean; children: ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [near, setNear] = useState(false);
  useEffect(() => {
    const el = box.current;
    if (!el || near) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setNear(true), {
      rootMargin: "100px",
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [near]);
  return (
    <div ref={box} className={wide ? "when-visible chart-wide" : "when-visible"} style={near ? undefined : { minHeight: height }}>
      {near ? children : null}
    </div>
  );
}

/** Fetch trials' intermediate values, a few requests at a time. */
async function details(searchId: string, numbers: number[], signal: AbortSignal): Promise<TrialDetail[]> {
  const out: TrialDetail[] = new Array(numbers.length);
  let next = 0;
  const worker = async () => {
    while (next < numbers.length && !signal.aborted) {
      const i = next++;
      out[i] = await getTrial(searchId, numbers[i], signal);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_FETCHES }, worker));
  return out.filter(Boolean);
}

function IntermediateChart({ search, total }: { search: Search; total: number }) {
  const [limit, setLimit] = useState(FIRST_CURVES);
  const [trials, setTrials] = useState<TrialDetail[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const best = search.profile.objective.goal === "maximize" ? "metrics.value DESC" : "metrics.value ASC";
  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    (async () => {
      const numbers: number[] = [];
      for (let page = 1; numbers.length < Math.min(limit, total); page++) {
        const size = Math.min(1000, limit);
        const got = await listTrials(search.id, { filter: "", orderBy: best, page, pageSize: size }, controller.signal);
        numbers.push(...got.results.filter((r) => r.points > 0).map((r) => r.id));
        if (!got.next) break;
      }
      setTrials(await details(search.id, numbers.slice(0, limit), controller.signal));
    })().catch((e: unknown) => !controller.signal.aborted && setError(e));
    return () => controller.abort();
  }, [search.id, best, limit, total]);
  const shaped = useMemo(() => {
    if (!trials || trials.length === 0) return null;
    const data = alignSeries(trials.map((tr) => ({ x: tr.steps, y: tr.values as Num[] })));
    const series = trials.map((tr, i) => ({ label: t.trial(tr.id), color: PALETTE[i % PALETTE.length] }));
    return { data, series };
  }, [trials]);
  return (
    <figure className="chart-card chart-wide" data-chart="intermediate">
      <figcaption>
        {t.intermediateChart}
        {trials && <span className="muted small"> — {t.intermediateShown(trials.length, total)}</span>}{" "}
        {trials && limit < total && (
          <button type="button" onClick={() => setLimit(total)}>
            {t.loadAll}
          </button>
        )}
      </figcaption>
      {error ? <p className="form-error">{String((error as Error).message ?? error)}</p> : null}
      {shaped && <UPlotChart data={shaped.data} series={shaped.series} xLabel={t.step} height={260} />}
      {trials && !shaped && <p className="muted">{t.noIntermediate}</p>}
    </figure>
  );
}

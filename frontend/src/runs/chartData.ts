// Metric histories shaped for uPlot: x-axis modes, EMA smoothing, the min/max band of downsampled
// buckets, log-scale safety and several runs on one x-axis. Pure functions, so they are unit-tested.
import type { CompareRow, History } from "./types";

/** What the x-axis shows; the server buckets by step or by time, so each mode names which it asks for. */
export type XMode = "step" | "epoch" | "relative" | "wall";

export const X_MODES: XMode[] = ["step", "epoch", "relative", "wall"];

export function fetchAxis(mode: XMode): "step" | "timestamp" {
  return mode === "relative" || mode === "wall" ? "timestamp" : "step";
}

export type Num = number | null;

/** One series ready to draw: x ascending, y (and band edges when downsampled) aligned with it. */
export interface Shaped {
  x: number[];
  y: Num[];
  lo: Num[] | null;
  hi: Num[] | null;
}

/** The x value of each point in `mode`; points with no x there (no epoch logged) are dropped. */
export function shapeHistory(h: History, mode: XMode): Shaped {
  const n = h.value.length;
  const keep: number[] = [];
  const x: number[] = [];
  const t0 = h.timestamp.length ? h.timestamp[0] : 0;
  for (let i = 0; i < n; i++) {
    let xi: number | null;
    if (mode === "step") xi = h.step[i];
    else if (mode === "epoch") xi = h.epoch[i] ?? null;
    else if (mode === "relative") xi = h.timestamp[i] - t0;
    else xi = h.timestamp[i];
    if (xi === null || !Number.isFinite(xi)) continue;
    keep.push(i);
    x.push(xi);
  }
  // Epochs repeat and may come out of step order in odd logs; uPlot wants x ascending.
  let sorted = true;
  for (let i = 1; i < x.length; i++) if (x[i] < x[i - 1]) sorted = false;
  const order = sorted ? keep.map((_, j) => j) : keep.map((_, j) => j).sort((a, b) => x[a] - x[b]);
  const pick = <T>(arr: T[]) => order.map((j) => arr[keep[j]]);
  const band = h.downsampled && h.min && h.max;
  return {
    x: order.map((j) => x[j]),
    y: pick(h.value).map(finite),
    lo: band ? pick(h.min!).map(finite) : null,
    hi: band ? pick(h.max!).map(finite) : null,
  };
}

function finite(v: Num | undefined): Num {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Exponential moving average with TensorBoard's debiasing (weight 0 = raw, towards 1 = smoother).
 * Gaps (null) stay gaps and do not reset the average. */
export function ema(values: Num[], weight: number): Num[] {
  if (weight <= 0) return values.slice();
  const w = Math.min(weight, 0.999);
  let last = 0;
  let seen = 0;
  return values.map((v) => {
    if (v === null) return null;
    last = last * w + (1 - w) * v;
    seen++;
    return last / (1 - Math.pow(w, seen));
  });
}

/** Log scales cannot draw zero or negatives: those become gaps. */
export function positiveOnly(values: Num[]): Num[] {
  return values.map((v) => (v !== null && v > 0 ? v : null));
}

/** The arrays uPlot draws for one run's chart: [x, y, (lo, hi)] and whether a band is present. */
export function uplotData(s: Shaped, opts: { smoothing: number; log: boolean }): { data: Num[][]; band: boolean } {
  const fix = (v: Num[]) => (opts.log ? positiveOnly(v) : v);
  const y = fix(ema(s.y, opts.smoothing));
  if (s.lo && s.hi) return { data: [s.x, y, fix(s.lo), fix(s.hi)], band: true };
  return { data: [s.x, y], band: false };
}

/** A cell of aligned data: `null` is a gap of the run's own (NaN or ±Infinity, sent as null by the
 * server), which the chart leaves blank; `undefined` only means another run has a point at that x, and
 * the line is drawn across it (uPlot: `spanGaps: false` breaks lines at null, never at undefined). */
export type Cell = Num | undefined;

/** Several series on one shared, ascending x (uPlot's "aligned" data): each y gets undefined where it has
 * no point at that x. Linear in the total number of points (a k-way merge over sorted inputs). */
export function alignSeries(series: { x: number[]; y: Num[] }[]): Cell[][] {
  const xs: number[] = [];
  const idx = series.map(() => 0);
  for (;;) {
    let next = Infinity;
    series.forEach((s, k) => {
      if (idx[k] < s.x.length && s.x[idx[k]] < next) next = s.x[idx[k]];
    });
    if (next === Infinity) break;
    xs.push(next);
    series.forEach((s, k) => {
      while (idx[k] < s.x.length && s.x[idx[k]] === next) idx[k]++;
    });
  }
  const ys = series.map((s) => {
    const out: Cell[] = new Array(xs.length).fill(undefined);
    let j = 0;
    for (let i = 0; i < s.x.length; i++) {
      while (xs[j] < s.x[i]) j++;
      out[j] = s.y[i]; // a repeated x keeps its last value
    }
    return out;
  });
  return [xs, ...ys];
}

/** Metric keys grouped by stage (`train.loss` → train); other stages and stage-less keys go to "other". */
export const STAGES = ["train", "val", "test", "other"] as const;
export type Stage = (typeof STAGES)[number];

export function stageOf(key: string): Stage {
  const head = key.split(".", 1)[0];
  return (STAGES as readonly string[]).includes(head) && key.includes(".") ? (head as Stage) : "other";
}

/** Rows of a compare table, without the ones on which every run agrees when `hideIdentical`. */
export function visibleRows(rows: CompareRow[], hideIdentical: boolean): CompareRow[] {
  return hideIdentical ? rows.filter((r) => !r.all_equal) : rows;
}

/** A compare cell as text: metric summaries show their latest value. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "object") {
    const latest = (value as { latest?: unknown }).latest;
    if (latest !== undefined) return cellText(latest);
    return JSON.stringify(value);
  }
  return String(value);
}

export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString("en");
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return String(Number(v.toPrecision(5)));
}

/** A param's values as numbers when all of them parse, else as categories (for plotly axes). */
export function numericOrCategories(values: unknown[]): { numbers: (number | null)[] } | { categories: string[] } {
  const nums = values.map((v) => (v === null || v === undefined || v === "" ? null : Number(v)));
  if (nums.every((n) => n === null || Number.isFinite(n))) return { numbers: nums };
  return { categories: values.map((v) => (v === null || v === undefined ? "" : String(v))) };
}

/** `train.loss` → `loss`: the name one chart shows for every stage (other keys are their own name). */
export function metricName(key: string): string {
  return stageOf(key) === "other" ? key : key.slice(key.indexOf(".") + 1);
}

/** Metric keys grouped into one chart per name, stages in train, val, test order: `loss` →
 * [train.loss, val.loss]. Charts sorted by name. */
export function groupByName(keys: string[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const name = metricName(key);
    groups.set(name, [...(groups.get(name) ?? []), key]);
  }
  const rank = (key: string) => STAGES.indexOf(stageOf(key));
  return [...groups]
    .map(([name, list]): [string, string[]] => [name, list.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))])
    .sort(([a], [b]) => a.localeCompare(b));
}

/** A line of a chart: its label, colour slot, and whether it is the faded raw curve behind a smoothed one. */
export interface LineSpec {
  label: string;
  slot: number;
  raw: boolean;
  /** Few points (a test metric logged once): drawn as dots, since a line of one point shows nothing. */
  dots: boolean;
}

/** One chart of several stages of a metric: each stage's line (smoothed when asked, with its raw curve
 * kept faded behind it), on a shared x. A single downsampled series keeps its min/max band. */
export function stagesChart(
  histories: History[],
  mode: XMode,
  opts: { smoothing: number; log: boolean },
): { data: Cell[][]; lines: LineSpec[]; band: boolean } {
  const fix = (v: Num[]) => (opts.log ? positiveOnly(v) : v);
  const shaped = histories.map((h) => ({ key: h.key, s: shapeHistory(h, mode) }));
  if (shaped.length === 1 && opts.smoothing <= 0 && shaped[0].s.lo && shaped[0].s.hi) {
    const { key, s } = shaped[0];
    return { data: [s.x, fix(s.y), fix(s.lo!), fix(s.hi!)], lines: [{ label: key, slot: 0, raw: false, dots: s.x.length <= 2 }], band: true };
  }
  const series: { x: number[]; y: Num[] }[] = [];
  const lines: LineSpec[] = [];
  shaped.forEach(({ key, s }, slot) => {
    const dots = s.x.length <= 2;
    if (opts.smoothing > 0 && !dots) {
      series.push({ x: s.x, y: fix(s.y) });
      lines.push({ label: `${key} (raw)`, slot, raw: true, dots });
    }
    series.push({ x: s.x, y: fix(opts.smoothing > 0 && !dots ? ema(s.y, opts.smoothing) : s.y) });
    lines.push({ label: key, slot, raw: false, dots });
  });
  return { data: alignSeries(series), lines, band: false };
}

// The numbers the AutoTune page derives from the API's answers: flattened parameters, which trials
// are in the top share by the objective, progress fractions, and the charts' data. Pure functions,
// tested without a browser.
import { numericOrCategories } from "../runs/chartData";
import type { Charts, Goal, Search } from "./api";

/** `{opt: {name: "adam"}}` → `{"opt.name": "adam"}` (as the trial filter language names them). */
export function flattenParams(params: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) Object.assign(out, flattenParams(value as Record<string, unknown>, name));
    else out[name] = value;
  }
  return out;
}

/** The parameter keys of the search, flattened and sorted. */
export function paramKeys(charts: Charts): string[] {
  const keys = new Set<string>();
  for (const [key, values] of Object.entries(charts.parallel.params)) {
    for (const value of values) {
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        for (const sub of Object.keys(flattenParams(value as Record<string, unknown>, key))) keys.add(sub);
      } else keys.add(key);
    }
  }
  return [...keys].sort();
}

const better = (goal: Goal) => (a: number, b: number) => (goal === "maximize" ? b - a : a - b);

/**
 * Indexes (into `charts.parallel`) of the trials whose final value is in the best `percent`% of those
 * with a value (at least one trial when any has a value); 100 keeps every trial, valueless ones too.
 */
export function topTrials(charts: Charts, goal: Goal, percent: number): number[] {
  const values = charts.parallel.value;
  const all = values.map((_, i) => i);
  if (percent >= 100) return all;
  const scored = all.filter((i) => values[i] !== null && Number.isFinite(values[i]));
  scored.sort((i, j) => better(goal)(values[i]!, values[j]!) || i - j);
  const keep = Math.max(scored.length ? 1 : 0, Math.ceil((scored.length * percent) / 100));
  return scored.slice(0, keep).sort((a, b) => a - b);
}

/** The parallel-coordinates figure's dimensions: one per parameter, then the objective. */
export function parallelDimensions(charts: Charts, keys: string[], rows: number[]) {
  const flat = charts.parallel.trial.map((_, i) =>
    flattenParams(Object.fromEntries(Object.entries(charts.parallel.params).map(([k, v]) => [k, v[i]]))),
  );
  const dims = keys.map((key) => {
    const shaped = numericOrCategories(rows.map((i) => flat[i][key]));
    if ("numbers" in shaped) return { label: key, values: shaped.numbers };
    const categories = [...new Set(shaped.categories)].sort();
    return {
      label: key,
      values: shaped.categories.map((c) => categories.indexOf(c)),
      tickvals: categories.map((_, i) => i),
      ticktext: categories,
    };
  });
  dims.push({ label: charts.objective.metric || "value", values: rows.map((i) => charts.parallel.value[i]) });
  return dims;
}

/** done / max, elapsed / limit as fractions in [0, 1] (null when there is no limit). */
export function progressFractions(progress: Search["progress"]): { trials: number | null; time: number | null } {
  const frac = (a: number | null, b: number | null) => (a === null || !b ? null : Math.min(1, Math.max(0, a / b)));
  const finished = Object.entries(progress.by_status)
    .filter(([status]) => status !== "Running" && status !== "Waiting")
    .reduce((n, [, count]) => n + count, 0);
  return { trials: frac(finished, progress.max_trial_num), time: frac(progress.elapsed_seconds, progress.max_exec_seconds) };
}

/** The final values chart's columns: trial number, value, best so far (uPlot's aligned arrays). */
export function valuesSeries(charts: Charts): number[][] {
  return [charts.values.trial, charts.values.value, charts.values.best_so_far];
}

/** `order_by` for a column and direction; the objective sorts best first by the goal. */
export function orderFor(key: string, descending: boolean): string {
  return `${key} ${descending ? "DESC" : "ASC"}`;
}

const DURATION_STATUSES = ["Succeeded", "Pruned", "Failed"];

/**
 * The durations chart's columns: trial number, then one series per status (Succeeded, Pruned,
 * Failed). A trial of another status is `undefined` in a series, so each line joins its own trials;
 * a trial still running has no duration (null) and leaves a gap.
 */
export function durationSeries(charts: Charts): { labels: string[]; data: (number | null | undefined)[][] } {
  const d = charts.durations;
  const labels = DURATION_STATUSES.filter((status) => d.status.includes(status));
  const columns = labels.map((status) => d.seconds.map((s, i) => (d.status[i] === status ? s : undefined)));
  return { labels, data: [d.trial, ...columns] };
}

// The compare page's data, shaped for its tables and plots (pure, so it is unit-tested).
import { alignSeries, type Cell, ema, positiveOnly, shapeHistory, type XMode } from "./chartData";
import type { CompareResult, History } from "./types";

/** A numeric column per run (null where a run lacks it), for plot axes. */
export interface NumericColumn {
  key: string;
  values: (number | null)[];
}

function toNumber(v: unknown): number | null {
  if (v === null || v === undefined || v === "") return null;
  if (typeof v === "object") return toNumber((v as { latest?: unknown }).latest);
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Params whose values are all numbers (and that vary), and metrics' latest values. */
export function numericColumns(result: CompareResult): { params: NumericColumn[]; metrics: NumericColumn[] } {
  const numeric = (rows: CompareResult["params"], needVariation: boolean) =>
    rows
      .map((row) => ({ key: row.key, values: row.values.map(toNumber), raw: row.values }))
      .filter((c) => c.values.every((v, i) => v !== null || c.raw[i] === null || c.raw[i] === undefined))
      .filter((c) => c.values.filter((v) => v !== null).length >= 2)
      .filter((c) => !needVariation || new Set(c.values.filter((v) => v !== null)).size > 1)
      .map(({ key, values }) => ({ key, values }));
  return { params: numeric(result.params, true), metrics: numeric(result.metrics, false) };
}

/** Runs that have every one of the given columns (the points a scatter/contour can place). */
export function completeRows(columns: NumericColumn[]): number[] {
  if (columns.length === 0) return [];
  return columns[0].values.map((_, i) => i).filter((i) => columns.every((c) => c.values[i] !== null));
}

/** One overlaid chart per metric key: the histories of every run on one x, with each run's colour slot. */
export function overlay(
  histories: History[],
  runIds: string[],
  mode: XMode,
  opts: { smoothing: number; log: boolean },
): Map<string, { data: Cell[][]; runs: number[] }> {
  const byKey = new Map<string, History[]>();
  for (const h of histories) {
    const list = byKey.get(h.key) ?? [];
    list.push(h);
    byKey.set(h.key, list);
  }
  const charts = new Map<string, { data: Cell[][]; runs: number[] }>();
  for (const [key, list] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
    const ordered = list
      .map((h) => ({ h, slot: runIds.indexOf(h.run ?? "") }))
      .filter((e) => e.slot >= 0)
      .sort((a, b) => a.slot - b.slot);
    const series = ordered.map(({ h }) => {
      const s = shapeHistory(h, mode);
      const y = ema(s.y, opts.smoothing);
      return { x: s.x, y: opts.log ? positiveOnly(y) : y };
    });
    charts.set(key, { data: alignSeries(series), runs: ordered.map((e) => e.slot) });
  }
  return charts;
}

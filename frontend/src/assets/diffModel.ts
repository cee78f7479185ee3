// What the diff view shows: one row per path that differs, in path order, with how its size moved,
// and the summary sentence. Pure, so it is tested without a browser.
import type { Diff } from "./api";

export type Change = "added" | "changed" | "removed";

export interface DiffRow {
  path: string;
  change: Change;
  oldSize: number | null;
  size: number | null;
  /** Bytes gained (negative: lost); for a changed file, new size minus old. */
  delta: number;
}

export function diffRows(diff: Diff): DiffRow[] {
  const rows: DiffRow[] = [
    ...diff.added.map((f) => ({ path: f.path, change: "added" as const, oldSize: null, size: f.size, delta: f.size })),
    ...diff.changed.map((f) => ({ path: f.path, change: "changed" as const, oldSize: f.old_size, size: f.size, delta: f.size - f.old_size })),
    ...diff.removed.map((f) => ({ path: f.path, change: "removed" as const, oldSize: f.size, size: null, delta: -f.size })),
  ];
  return rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Only the rows of the given kinds of change (all when none is given). */
export function filterRows(rows: DiffRow[], show: ReadonlySet<Change>): DiffRow[] {
  return show.size === 0 ? rows : rows.filter((row) => show.has(row.change));
}

/** "+1.2 KB", "−300 B", "±0 B" for a size change. */
export function signedBytes(delta: number, format: (n: number) => string): string {
  if (delta === 0) return `±${format(0)}`;
  return `${delta > 0 ? "+" : "−"}${format(Math.abs(delta))}`;
}

/** How a ref reads: `main (3f9c2a1b)`, `v1 (3f9c2a1b)`, or the short commit. */
export function refText(ref: Diff["from"]): string {
  const short = ref.commit ? ref.commit.slice(0, 8) : "no commits";
  return ref.kind === "commit" ? short : `${ref.name} (${short})`;
}

export function isEmpty(diff: Diff): boolean {
  return diff.added.length + diff.changed.length + diff.removed.length === 0;
}

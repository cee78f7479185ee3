// The runs table's chosen param/metric/tag columns: which keys the loaded runs have, and which of them
// the user picked (localStorage), with a sensible default for a first visit.
import type { RunRow } from "./types";

export type KeyKind = "params" | "metrics" | "tags";
export const KEY_KINDS: KeyKind[] = ["params", "metrics", "tags"];

/** A chosen column, as the filter language names it: `params.lr`, `metrics.val.acc`, `tags.team`. */
export interface KeyColumn {
  kind: KeyKind;
  key: string;
}

export const columnId = (c: KeyColumn) => `${c.kind}.${c.key}`;

export type KeySets = Record<KeyKind, Set<string>>;

export const emptyKeys = (): KeySets => ({ params: new Set(), metrics: new Set(), tags: new Set() });

/** Adds the keys of `rows` to `into`; answers whether anything new was found (so state updates are rare). */
export function collectKeys(into: KeySets, rows: RunRow[]): boolean {
  let grew = false;
  for (const row of rows) {
    for (const kind of KEY_KINDS) {
      for (const key of Object.keys(row[kind] ?? {})) {
        if (!into[kind].has(key)) {
          into[kind].add(key);
          grew = true;
        }
      }
    }
  }
  return grew;
}

const STORE = "em.runs.columns";

export function loadColumns(storage: Storage = localStorage): KeyColumn[] | null {
  try {
    const value: unknown = JSON.parse(storage.getItem(STORE) ?? "null");
    if (!Array.isArray(value)) return null;
    return value.filter(
      (c): c is KeyColumn =>
        c && typeof c.key === "string" && (KEY_KINDS as string[]).includes((c as KeyColumn).kind),
    );
  } catch {
    return null;
  }
}

export function saveColumns(columns: KeyColumn[], storage: Storage = localStorage): void {
  storage.setItem(STORE, JSON.stringify(columns));
}

/** Before the user picks: the first few metrics and params (sorted), so a table is useful at once. */
export function defaultColumns(keys: KeySets, perKind = 4): KeyColumn[] {
  const take = (kind: KeyKind) => [...keys[kind]].sort().slice(0, perKind).map((key) => ({ kind, key }));
  return [...take("metrics"), ...take("params")];
}

export function cellValue(row: RunRow, c: KeyColumn): string | number | null {
  const value = row[c.kind]?.[c.key];
  return value === undefined ? null : value;
}

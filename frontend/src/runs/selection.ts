// The runs chosen for comparing or deleting, kept in localStorage so the choice survives moving between
// folders, filters and reloads (and is shared by the portal's tabs, through the storage event).
import { useCallback, useEffect, useState } from "react";

const KEY = "em.runs.selection";

/** id → name (the name lets the toolbar and the compare page say what is chosen before loading it). */
export type Selection = Record<string, string>;

export function readSelection(storage: Storage = localStorage): Selection {
  try {
    const value: unknown = JSON.parse(storage.getItem(KEY) ?? "{}");
    if (!value || typeof value !== "object" || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === "string")) as Selection;
  } catch {
    return {};
  }
}

export function writeSelection(selection: Selection, storage: Storage = localStorage): void {
  storage.setItem(KEY, JSON.stringify(selection));
}

export function useSelection() {
  const [selection, setSelection] = useState<Selection>(() => readSelection());
  useEffect(() => {
    const onStorage = (e: StorageEvent) => e.key === KEY && setSelection(readSelection());
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, []);
  const update = useCallback((change: (s: Selection) => Selection) => {
    setSelection((current) => {
      const next = change(current);
      writeSelection(next);
      return next;
    });
  }, []);
  const toggle = useCallback(
    (id: string, name: string, on: boolean) =>
      update((s) => {
        const next = { ...s };
        if (on) next[id] = name;
        else delete next[id];
        return next;
      }),
    [update],
  );
  return { selection, update, toggle };
}

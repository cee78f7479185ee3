// Tabs whose choice lives in the URL's hash (so a link opens a tab), with arrow keys between them,
// as the run page has them: part 2's pages (asset, artifact, AutoTune) share this one.
import { useCallback, type KeyboardEvent, type ReactNode } from "react";
import { useLocation, useNavigate } from "react-router-dom";

/** Replace the query string and keep the tab (the hash): `setSearchParams` would drop it. */
export function useSetQuery(): (params: URLSearchParams) => void {
  const location = useLocation();
  const navigate = useNavigate();
  return useCallback(
    (params: URLSearchParams) => {
      const search = params.toString();
      navigate({ search: search ? `?${search}` : "", hash: location.hash }, { replace: true });
    },
    [navigate, location.hash],
  );
}

/** The tab the hash names (the first one when it names none) and a way to choose another. */
export function useHashTab<T extends string>(tabs: readonly T[]): [T, (tab: T) => void] {
  const location = useLocation();
  const navigate = useNavigate();
  const hash = location.hash.replace("#", "") as T;
  const tab = tabs.includes(hash) ? hash : tabs[0];
  const select = useCallback(
    (t: T) => navigate({ search: location.search, hash: t === tabs[0] ? "" : t }, { replace: true }),
    [navigate, location.search, tabs],
  );
  return [tab, select];
}

interface TabsProps<T extends string> {
  label: string;
  tabs: readonly T[];
  names: Record<string, string>;
  tab: T;
  onSelect: (tab: T) => void;
  children: ReactNode;
}

export function Tabs<T extends string>({ label, tabs, names, tab, onSelect, children }: TabsProps<T>) {
  const onKey = (e: KeyboardEvent) => {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
    onSelect(next);
    document.getElementById(`tab-${next}`)?.focus();
  };
  return (
    <>
      <div className="tabs" role="tablist" aria-label={label} onKeyDown={onKey}>
        {tabs.map((t) => (
          <button
            key={t}
            id={`tab-${t}`}
            type="button"
            role="tab"
            aria-selected={t === tab}
            aria-controls={`panel-${t}`}
            tabIndex={t === tab ? 0 : -1}
            className={t === tab ? "active" : undefined}
            onClick={() => onSelect(t)}
          >
            {names[t]}
          </button>
        ))}
      </div>
      <div className="tab-panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {children}
      </div>
    </>
  );
}

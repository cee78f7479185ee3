// The diff between any two refs of the asset (branch, tag or commit): counts and bytes, then every path
// that differs with how its size moved, filterable by kind of change. The refs are in the URL
// (?from=&to=) so a diff can be linked.
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { EmptyState, ErrorState, Loading, VirtualTable, type Column } from "../components";
import { useSetQuery } from "../components/Tabs";
import { useApi } from "../components/useApi";
import { formatBytes } from "../runs/format";
import { diffRefs, MAIN } from "./api";
import { diffRows, filterRows, isEmpty, refText, signedBytes, type Change, type DiffRow } from "./diffModel";
import { assetsEn } from "./strings";

const CHANGES: Change[] = ["added", "changed", "removed"];

export function DiffTab({ assetId, names }: { assetId: string; names: string[] }) {
  const [params] = useSearchParams();
  const setQuery = useSetQuery();
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  const [draft, setDraft] = useState({ from: from || names.find((n) => n !== MAIN) || MAIN, to: to || MAIN });
  const t = assetsEn.diff;

  const compare = (e: FormEvent) => {
    e.preventDefault();
    const p = new URLSearchParams(params);
    p.set("from", draft.from.trim());
    p.set("to", draft.to.trim());
    setQuery(p);
  };
  return (
    <div className="diff">
      <form className="inline-form" onSubmit={compare} aria-label={t.label}>
        <datalist id="asset-refs">
          {names.map((n) => (
            <option key={n} value={n} />
          ))}
        </datalist>
        <label>
          {t.from}
          <input list="asset-refs" value={draft.from} required onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </label>
        <label>
          {t.to}
          <input list="asset-refs" value={draft.to} required onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </label>
        <button type="submit" className="primary">
          {t.compare}
        </button>
      </form>
      {from && to && <DiffResult assetId={assetId} from={from} to={to} />}
    </div>
  );
}

function DiffResult({ assetId, from, to }: { assetId: string; from: string; to: string }) {
  const diff = useApi((signal) => diffRefs(assetId, from, to, signal), [assetId, from, to]);
  const [show, setShow] = useState<Set<Change>>(new Set());
  const t = assetsEn.diff;
  if (diff.error) return <ErrorState error={diff.error} onRetry={diff.reload} />;
  if (!diff.data) return <Loading />;
  const d = diff.data;
  if (isEmpty(d)) return <EmptyState title={t.same} />;
  const rows = filterRows(diffRows(d), show);
  const toggle = (c: Change) =>
    setShow((s) => {
      const next = new Set(s);
      if (next.has(c)) next.delete(c);
      else next.add(c);
      return next;
    });
  const columns: Column<DiffRow>[] = [
    { id: "change", header: t.change, width: "6.5rem", render: (r) => <span className={`change change-${r.change}`}>{t[r.change]}</span> },
    { id: "path", header: t.path, width: "minmax(14rem, 3fr)", render: (r) => <span title={r.path}>{r.path}</span> },
    { id: "old", header: t.oldSize, width: "7rem", render: (r) => <span className="num">{r.oldSize === null ? "—" : formatBytes(r.oldSize)}</span> },
    { id: "new", header: t.size, width: "7rem", render: (r) => <span className="num">{r.size === null ? "—" : formatBytes(r.size)}</span> },
    { id: "delta", header: t.delta, width: "7rem", render: (r) => <span className="num">{signedBytes(r.delta, formatBytes)}</span> },
  ];
  const s = d.summary;
  return (
    <section className="diff-result" aria-label={`${refText(d.from)} → ${refText(d.to)}`}>
      <p className="diff-summary" data-testid="diff-summary">
        <strong>
          {refText(d.from)} → {refText(d.to)}:
        </strong>{" "}
        {t.summary(s.added, s.changed, s.removed)} (
        {[
          signedBytes(s.bytes_added, formatBytes),
          signedBytes(-s.bytes_removed, formatBytes),
          `${t.changed} ${signedBytes(s.bytes_changed, formatBytes)}`,
        ].join(", ")}
        )
      </p>
      <fieldset className="inline-form change-filter">
        <legend>{t.show}</legend>
        {CHANGES.map((c) => (
          <label key={c} className="inline-check">
            <input type="checkbox" checked={show.has(c)} onChange={() => toggle(c)} /> {t[c]}
          </label>
        ))}
      </fieldset>
      <VirtualTable label={t.label} columns={columns} count={rows.length} rowAt={(i) => rows[i]} rowKey={(r) => r.path} rowHeight={34} />
    </section>
  );
}

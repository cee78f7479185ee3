// The trials table: sorted and filtered by the server (the run filter language over trials), fetched
// page by page as it scrolls, with a column chooser for parameters; a row opens its trial below.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { ErrorState, Loading, usePagedRows, VirtualTable, type Column, type Sort } from "../components";
import { formatNumber } from "../runs/chartData";
import { ColumnPicker } from "../runs/ColumnPicker";
import type { KeyColumn } from "../runs/columns";
import { errorSpan, type ErrorSpan } from "../runs/filterLang";
import { formatDuration } from "../runs/format";
import { listTrials, type Charts, type Search, type Trial } from "./api";
import { autotuneEn as t } from "./strings";
import { TrialDetailCard } from "./TrialDetail";
import { flattenParams, orderFor, paramKeys } from "./trialStats";

const SHOWN_PARAMS = 6;

function cell(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return formatNumber(value);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function TrialsTable({ search, charts, onReady }: { search: Search; charts: Charts; onReady: () => void }) {
  const keys = useMemo(() => paramKeys(charts), [charts]);
  const [chosen, setChosen] = useState<KeyColumn[]>(() => keys.slice(0, SHOWN_PARAMS).map((key) => ({ kind: "params", key })));
  const [picking, setPicking] = useState(false);
  const [draft, setDraft] = useState("");
  const [filter, setFilter] = useState("");
  const goalDescending = search.profile.objective.goal === "maximize";
  const [sort, setSort] = useState<Sort>({ key: "metrics.value", descending: goalDescending });
  const [open, setOpen] = useState<number | null>(null);
  const orderBy = orderFor(sort.key, sort.descending);
  const rows = usePagedRows<Trial>(
    (page, pageSize, signal) => listTrials(search.id, { filter, orderBy, page, pageSize }, signal),
    `${search.id}:${filter}:${orderBy}`,
    200,
  );
  useEffect(() => {
    if (rows.count !== null) onReady();
  }, [rows.count, onReady]);

  const bad: ErrorSpan | null =
    rows.error instanceof ApiError && rows.error.status === 400
      ? errorSpan(filter, rows.error.detail as Parameters<typeof errorSpan>[1], rows.error.message)
      : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFilter(draft.trim());
  };

  const columns: Column<Trial>[] = [
    {
      id: "id",
      header: t.col.id,
      width: "5.5rem",
      sort: "attributes.id",
      render: (r) => (
        <button type="button" className="link-button" onClick={() => setOpen(r.id)} aria-label={t.open(r.id)}>
          {r.id}
        </button>
      ),
    },
    { id: "status", header: t.col.status, width: "7rem", sort: "attributes.status", render: (r) => <span className={`status status-${r.status.toLowerCase()}`}>{r.status}</span> },
    { id: "value", header: search.profile.objective.metric || t.col.value, width: "8rem", sort: "metrics.value", render: (r) => <span className="num">{cell(r.value)}</span> },
    ...chosen.map(
      (c): Column<Trial> => ({
        id: `p:${c.key}`,
        header: c.key,
        width: "minmax(6rem, 1fr)",
        sort: `params.${/^[\w.-]+$/.test(c.key) ? c.key : `\`${c.key}\``}`,
        render: (r) => cell(flattenParams(r.params)[c.key]),
      }),
    ),
    { id: "duration", header: t.col.duration, width: "7rem", sort: "attributes.duration", render: (r) => formatDuration(r.duration_seconds) },
    { id: "points", header: t.col.points, width: "5rem", render: (r) => <span className="num">{r.points.toLocaleString("en")}</span> },
  ];

  return (
    <section className="card trials" aria-label={t.trials}>
      <div className="card-title">
        <h2>{t.trials}</h2>
        <span className="muted" data-testid="trials-count">
          {rows.count === null ? "" : t.trialsCount(rows.count)}
        </span>
        <button type="button" onClick={() => setPicking(true)}>
          {t.columns}
        </button>
      </div>
      <form className="inline-form" role="search" onSubmit={submit}>
        <label className="grow">
          {t.filterLabel}
          <input
            value={draft}
            className="mono"
            placeholder={t.filterPlaceholder}
            aria-invalid={bad ? true : undefined}
            onChange={(e) => setDraft(e.target.value)}
            data-testid="trial-filter"
          />
        </label>
        <button type="submit" className="primary">
          {t.filter}
        </button>
        {filter && (
          <button type="button" onClick={() => (setDraft(""), setFilter(""))}>
            {t.clear}
          </button>
        )}
      </form>
      {bad && (
        <p className="filter-error" role="alert" data-testid="trial-filter-error">
          {bad.message}
        </p>
      )}
      {rows.error && !bad && rows.count === null ? (
        <ErrorState error={rows.error} onRetry={rows.reload} />
      ) : rows.count === null ? (
        bad ? null : <Loading />
      ) : rows.count === 0 ? (
        <p className="muted">{t.noTrials}</p>
      ) : (
        <VirtualTable
          label={t.trials}
          columns={columns}
          count={rows.count}
          rowAt={rows.rowAt}
          rowKey={(r) => String(r.id)}
          onRange={rows.onRange}
          sort={sort}
          onSort={(key) => setSort((s) => ({ key, descending: s.key === key ? !s.descending : key === "metrics.value" ? goalDescending : false }))}
          rowClass={(r) => (r.id === open ? "selected" : undefined)}
          rowHeight={36}
        />
      )}
      {open !== null && <TrialDetailCard search={search} number={open} onClose={() => setOpen(null)} />}
      {picking && (
        <ColumnPicker
          keys={{ params: new Set(keys), metrics: new Set(), tags: new Set() }}
          chosen={chosen}
          onChange={setChosen}
          onClose={() => setPicking(false)}
        />
      )}
    </section>
  );
}

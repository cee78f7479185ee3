// The run's overview: what ran, where, when and for how long, its labels, its metrics (latest, min, max)
// and parameters at a glance; tags and notes, editable by whoever may edit the run.
import { useState } from "react";
import { Link } from "react-router-dom";
import { FormError, Labels, formatDate, nodeHref } from "../components";
import { formatNumber } from "./chartData";
import { en } from "../i18n/en";
import { deleteTag, setTag, updateRun } from "./api";
import { formatDuration, runDuration } from "./format";
import { StatusBadge } from "./StatusBadge";
import { runsEn } from "./strings";
import type { RunDetail } from "./types";

const t = runsEn.run;

export function OverviewTab({ run, onChange }: { run: RunDetail; onChange: (run: RunDetail) => void }) {
  const canEdit = run.access === "edit" || run.access === "owner";
  const facts: [string, React.ReactNode][] = [
    [t.status, <StatusBadge key="s" status={run.run.status} />],
    [t.started, formatDate(run.run.started_at)],
    [t.ended, formatDate(run.run.ended_at)],
    [t.duration, formatDuration(runDuration(run.run))],
    [t.user, run.created_by ?? run.owner],
    [t.path, <code key="p">{run.path}</code>],
    [t.labels, run.labels.length ? <Labels key="l" labels={run.labels} /> : "—"],
    [t.source, [run.run.source_type, run.run.source_name].filter(Boolean).join(": ") || "—"],
    [t.command, run.command ? <code key="c" className="wrap">{run.command}</code> : "—"],
    [t.id, <code key="i">{run.id}</code>],
  ];
  return (
    <div className="overview">
      {run.index_state === "pending" && <p className="notice">{t.indexPending}</p>}
      {run.index_state === "failed" && (
        <div className="notice notice-error" role="alert">
          <p>{t.indexFailed}</p>
          <ul>
            {run.index_errors.map((e) => (
              <li key={e.file + e.message}>
                <code>{e.file}</code>: {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <dl className="run-facts">
        {facts.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <AtAGlance run={run} />
      {(["input", "output"] as const).map((dir) =>
        run.lineage?.[dir]?.length ? (
          <section key={dir}>
            <h3>{dir === "input" ? t.lineageIn : t.lineageOut}</h3>
            <ul>
              {run.lineage[dir].map((l) => (
                <li key={l.id + l.ref}>
                  <Link to={nodeHref({ id: l.id, kind: l.kind as never, path: l.path })}>{l.path}</Link>
                  {l.ref && <span className="muted"> ({l.ref})</span>}
                </li>
              ))}
            </ul>
          </section>
        ) : null,
      )}
      <Tags run={run} canEdit={canEdit} onChange={onChange} />
      <Notes run={run} canEdit={canEdit} onChange={onChange} />
    </div>
  );
}

const num = (v: number | null) =>
  v === null ? (
    "—"
  ) : (
    <span className="num" title={String(v)}>
      {formatNumber(v)}
    </span>
  );

/** Every metric's latest, min and max, and the parameters, side by side before any chart. */
function AtAGlance({ run }: { run: RunDetail }) {
  const metrics = Object.entries(run.metrics).sort(([a], [b]) => a.localeCompare(b));
  const params = Object.entries(run.params).sort(([a], [b]) => a.localeCompare(b));
  if (metrics.length === 0 && params.length === 0) return null;
  return (
    <div className="at-a-glance">
      {metrics.length > 0 && (
        <section>
          <h3>{t.keyMetrics}</h3>
          <table className="data-table glance-table" data-testid="key-metrics">
            <thead>
              <tr>
                <th scope="col">{t.metric}</th>
                <th scope="col">{t.latest}</th>
                <th scope="col">{t.min}</th>
                <th scope="col">{t.max}</th>
              </tr>
            </thead>
            <tbody>
              {metrics.map(([key, m]) => (
                <tr key={key}>
                  <th scope="row">{key}</th>
                  <td>{num(m.latest)}</td>
                  <td>{num(m.min)}</td>
                  <td>{num(m.max)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {params.length > 0 && (
        <section>
          <h3>{t.parameters}</h3>
          <table className="data-table glance-table" data-testid="key-params">
            <tbody>
              {params.map(([key, value]) => (
                <tr key={key}>
                  <th scope="row">{key}</th>
                  <td className="mono">{value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}

function Tags({ run, canEdit, onChange }: { run: RunDetail; canEdit: boolean; onChange: (run: RunDetail) => void }) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const entries = Object.entries(run.tags).sort(([a], [b]) => a.localeCompare(b));

  async function act(work: () => Promise<Record<string, string>>) {
    setBusy(true);
    setError(null);
    try {
      onChange({ ...run, tags: await work() });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="tags-h">
      <h3 id="tags-h">{t.tags}</h3>
      {entries.length === 0 && <p className="muted">{t.noTags}</p>}
      <ul className="tag-list">
        {entries.map(([k, v]) => (
          <li key={k} className="tag">
            <span className="tag-key">{k}</span>
            {v && <span className="tag-value">{v}</span>}
            {canEdit && (
              <button
                type="button"
                className="icon"
                aria-label={t.removeTag(k)}
                disabled={busy}
                onClick={() =>
                  act(async () => {
                    await deleteTag(run.id, k);
                    const next = { ...run.tags };
                    delete next[k];
                    return next;
                  })
                }
              >
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
      {canEdit && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            const k = key.trim();
            if (!k) return;
            act(async () => {
              const tag = await setTag(run.id, k, value);
              setKey("");
              setValue("");
              return { ...run.tags, [tag.key]: tag.value };
            });
          }}
        >
          <input aria-label={t.tagKey} placeholder={t.tagKey} value={key} onChange={(e) => setKey(e.target.value)} />
          <input aria-label={t.tagValue} placeholder={t.tagValue} value={value} onChange={(e) => setValue(e.target.value)} />
          <button type="submit" disabled={busy || !key.trim()}>
            {t.addTag}
          </button>
        </form>
      )}
      <FormError error={error} />
    </section>
  );
}

function Notes({ run, canEdit, onChange }: { run: RunDetail; canEdit: boolean; onChange: (run: RunDetail) => void }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(run.notes);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section aria-labelledby="notes-h">
      <h3 id="notes-h">{t.notes}</h3>
      {editing ? (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            try {
              onChange(await updateRun(run.id, { notes: draft }));
              setEditing(false);
            } catch (err) {
              setError(err);
            } finally {
              setBusy(false);
            }
          }}
        >
          <textarea aria-label={t.notes} rows={6} value={draft} onChange={(e) => setDraft(e.target.value)} autoFocus />
          <div className="row-buttons">
            <button type="button" onClick={() => setEditing(false)}>
              {en.common.cancel}
            </button>
            <button type="submit" className="primary" disabled={busy}>
              {en.common.save}
            </button>
          </div>
          <FormError error={error} />
        </form>
      ) : (
        <>
          {run.notes ? <p className="notes">{run.notes}</p> : <p className="muted">{t.noNotes}</p>}
          {canEdit && (
            <button
              type="button"
              onClick={() => {
                setDraft(run.notes);
                setEditing(true);
              }}
            >
              {t.editNotes}
            </button>
          )}
        </>
      )}
    </section>
  );
}

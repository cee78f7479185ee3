// Branches (models may have several, merged into main) and tags (never moved): list them, open one,
// tag a version, start a branch, merge a branch into main. A merge conflict lists its paths.
import { useState, type FormEvent } from "react";
import { ApiError, type Node } from "../api";
import { formatDate, FormError } from "../components";
import { createBranch, createTag, MAIN, merge, type Branch, type Tag } from "./api";
import { assetsEn } from "./strings";

interface Props {
  asset: Node;
  branches: Branch[];
  tags: Tag[];
  at: string;
  onChange: () => void;
  onOpen: (ref: string) => void;
}

const short = (id: string | null) => (id ? id.slice(0, 8) : "—");

export function RefsTab({ asset, branches, tags, at, onChange, onOpen }: Props) {
  const canEdit = asset.access === "edit" || asset.access === "owner";
  const isModel = asset.kind === "Model";
  const [outcome, setOutcome] = useState<{ text: string; paths?: string[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const t = assetsEn.refs;

  const doMerge = async (source: string) => {
    setOutcome(null);
    setError(null);
    try {
      const merged = await merge(asset.id, source, "");
      setOutcome({ text: t.merged[merged.result] });
      onChange();
    } catch (e) {
      if (e instanceof ApiError && e.code === "merge_conflict") {
        const paths = (e.detail as { paths?: string[] } | null)?.paths ?? [];
        setOutcome({ text: `${e.message} ${t.conflict}`, paths });
      } else setError(e);
    }
  };

  return (
    <div className="refs">
      {!canEdit && <p className="muted">{t.viewerOnly}</p>}
      {outcome && (
        <div className="notice" role="status" data-testid="merge-outcome">
          <p>{outcome.text}</p>
          {outcome.paths && (
            <ul className="mono">
              {outcome.paths.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <FormError error={error} />
      <h2>{assetsEn.asset.branches}</h2>
      <table className="simple">
        <thead>
          <tr>
            <th>{t.branch}</th>
            <th>{t.head}</th>
            <th>{t.created}</th>
            <th>{t.by}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {branches.map((b) => (
            <tr key={b.name}>
              <td>
                <button type="button" className="link-button" onClick={() => onOpen(b.name)}>
                  {b.name}
                </button>
              </td>
              <td className="mono">{short(b.head)}</td>
              <td>{formatDate(b.created_at)}</td>
              <td>{b.created_by ?? "—"}</td>
              <td>
                {isModel && canEdit && b.name !== MAIN && (
                  <button type="button" onClick={() => doMerge(b.name)} aria-label={t.mergeTitle(b.name)}>
                    {t.merge}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!isModel && <p className="muted small">{t.datasetNoBranches}</p>}
      {isModel && canEdit && <NewRefForm label={t.newBranch} at={at} onSubmit={(name, start) => createBranch(asset.id, name, start)} onDone={onChange} />}
      <h2>{assetsEn.asset.tags}</h2>
      {tags.length === 0 ? (
        <p className="muted">—</p>
      ) : (
        <table className="simple">
          <thead>
            <tr>
              <th>{t.tag}</th>
              <th>{t.version}</th>
              <th>{t.created}</th>
              <th>{t.by}</th>
            </tr>
          </thead>
          <tbody>
            {tags.map((tag) => (
              <tr key={tag.name}>
                <td>
                  <button type="button" className="link-button" onClick={() => onOpen(tag.name)}>
                    {tag.name}
                  </button>
                </td>
                <td className="mono">{short(tag.version)}</td>
                <td>{formatDate(tag.created_at)}</td>
                <td>{tag.created_by ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canEdit && <NewRefForm label={t.newTag} at={at} onSubmit={(name, ref) => createTag(asset.id, name, ref)} onDone={onChange} />}
    </div>
  );
}

function NewRefForm({ label, at, onSubmit, onDone }: { label: string; at: string; onSubmit: (name: string, at: string) => Promise<unknown>; onDone: () => void }) {
  const [name, setName] = useState("");
  const [where, setWhere] = useState(at);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(name.trim(), where.trim() || MAIN);
      setName("");
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label={label}>
      <label>
        {assetsEn.refs.name}
        <input value={name} required onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        {assetsEn.refs.at}
        <input value={where} onChange={(e) => setWhere(e.target.value)} />
      </label>
      <button type="submit" disabled={busy}>
        {label}
      </button>
      <FormError error={error} />
    </form>
  );
}

// An artifact: its files (name, size, hashes, modified, download one or all), its external references,
// its metadata, the runs that produced and used it, and the data flow around it. /artifacts/:id#files
import { Link, useParams } from "react-router-dom";
import { getNode } from "../api";
import { Breadcrumbs, EmptyState, ErrorState, formatDate, Labels, Loading, NodeIcon } from "../components";
import { Tabs, useHashTab } from "../components/Tabs";
import { useApi } from "../components/useApi";
import { DataFlow } from "../lineage";
import { getLineage, type LineageNode } from "../lineage/api";
import { JsonTree } from "../runs/JsonTree";
import { en } from "../i18n/en";
import { listNodeFiles, listReferences, nodeArchiveUrl, nodeFileUrl } from "./api";
import { producedAndUsed } from "./artifactRuns";
import { FileTable } from "./FilesAtRef";
import { assetsEn } from "./strings";
import "../runs/runs.css";
import "./assets.css";

const TABS = ["files", "references", "metadata", "dataflow"] as const;

export function ArtifactPage() {
  const { id = "" } = useParams();
  const [tab, select] = useHashTab(TABS);
  const node = useApi((signal) => getNode(id, signal), [id]);
  const runs = useApi((signal) => getLineage(id, 1, signal).then((answer) => producedAndUsed(answer, id)), [id]);
  const t = assetsEn.artifact;

  if (node.error) return <ErrorState error={node.error} onRetry={node.reload} />;
  if (!node.data) return <Loading label={t.loading} />;
  const n = node.data;
  const parentPath = n.path.slice(0, n.path.lastIndexOf("/")) || "/";
  return (
    <div className="page artifact-page">
      <Breadcrumbs path={parentPath} />
      <header className="page-head">
        <h1>
          <NodeIcon kind={n.kind} /> {n.name}
        </h1>
        <Labels labels={n.labels} />
        <span className="spacer" />
        <a className="button" href={nodeArchiveUrl(n.id)} download>
          {t.downloadAll}
        </a>
      </header>
      {n.description && <p className="description">{n.description}</p>}
      <div className="artifact-body">
        <div>
          <Tabs label={n.name} tabs={TABS} names={t.tabs} tab={tab} onSelect={select}>
            {tab === "files" && <ArtifactFiles id={n.id} />}
            {tab === "references" && <ArtifactReferences id={n.id} />}
            {tab === "metadata" && (
              <div>
                <dl className="facts">
                  <dt>{en.node.owner}</dt>
                  <dd>{n.owner}</dd>
                  <dt>{en.node.editor}</dt>
                  <dd>{n.editor ?? en.common.none}</dd>
                  <dt>{en.node.modified}</dt>
                  <dd>{formatDate(n.modified_at)}</dd>
                  <dt>{en.node.path}</dt>
                  <dd className="mono">{n.path}</dd>
                  <dt>{en.node.id}</dt>
                  <dd className="mono">{n.id}</dd>
                </dl>
                {hasEntries(n.extra) && <JsonTree value={n.extra} what="metadata" />}
              </div>
            )}
            {tab === "dataflow" && <DataFlow nodeKey={n.id} />}
          </Tabs>
        </div>
        <aside className="artifact-side" aria-label={`${t.producedBy} / ${t.usedBy}`}>
          {runs.error ? (
            <ErrorState error={runs.error} onRetry={runs.reload} />
          ) : !runs.data ? (
            <Loading />
          ) : (
            <>
              <RunList title={t.producedBy} runs={runs.data.producedBy} />
              <RunList title={t.usedBy} runs={runs.data.usedBy} />
            </>
          )}
        </aside>
      </div>
    </div>
  );
}

const hasEntries = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && Object.keys(value).length > 0;

function RunList({ title, runs }: { title: string; runs: LineageNode[] }) {
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      {runs.length === 0 ? (
        <p className="muted">{assetsEn.artifact.noRuns}</p>
      ) : (
        <ul>
          {runs.map((run) => (
            <li key={run.key}>
              <Link to={`/runs/${run.id}`} title={run.path}>
                {run.name}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ArtifactFiles({ id }: { id: string }) {
  const files = useApi((signal) => listNodeFiles(id, signal).then((f) => [...f].sort((a, b) => a.path.localeCompare(b.path))), [id]);
  if (files.error) return <ErrorState error={files.error} onRetry={files.reload} />;
  if (!files.data) return <Loading />;
  if (files.data.length === 0) return <EmptyState title={assetsEn.artifact.empty} />;
  const rows = files.data;
  return <FileTable label={assetsEn.files.artifactLabel} count={rows.length} rowAt={(i) => rows[i]} href={(f) => nodeFileUrl(id, f.path)} />;
}

function ArtifactReferences({ id }: { id: string }) {
  const refs = useApi((signal) => listReferences(id, signal), [id]);
  const t = assetsEn.artifact;
  if (refs.error) return <ErrorState error={refs.error} onRetry={refs.reload} />;
  if (!refs.data) return <Loading />;
  return (
    <div>
      <p className="muted small">{t.referencesHint}</p>
      {refs.data.problem && <p className="notice notice-error">{refs.data.problem}</p>}
      {refs.data.references.length === 0 ? (
        <EmptyState title={t.noReferences} />
      ) : (
        <table className="simple">
          <thead>
            <tr>
              <th>{assetsEn.files.path}</th>
              <th>{t.uri}</th>
            </tr>
          </thead>
          <tbody>
            {refs.data.references.map((r) => (
              <tr key={r.path}>
                <td className="mono">{r.path}</td>
                <td className="mono">{r.uri}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

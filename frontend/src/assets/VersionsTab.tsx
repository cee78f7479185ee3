// The versions a ref descends from, newest first (message, author, time, size, tags), fetched page by
// page as the table scrolls; choosing one shows its metadata and parents, and opens the page at it.
import { useState } from "react";
import { EmptyState, ErrorState, formatDate, Loading, usePagedRows, VirtualTable, type Column } from "../components";
import { formatBytes } from "../runs/format";
import { JsonTree } from "../runs/JsonTree";
import { listVersions, type Version } from "./api";
import { assetsEn } from "./strings";

interface Props {
  assetId: string;
  at: string;
  hasCommits: boolean;
  onOpen: (ref: string) => void;
}

export function VersionsTab({ assetId, at, hasCommits, onOpen }: Props) {
  const [chosen, setChosen] = useState<Version | null>(null);
  const rows = usePagedRows<Version>(
    (page, pageSize, signal) => listVersions(assetId, at, page, pageSize, signal),
    `${assetId}:${at}`,
    100,
  );
  const t = assetsEn.versions;
  const columns: Column<Version>[] = [
    {
      id: "id",
      header: t.id,
      width: "7.5rem",
      render: (v) => (
        <button type="button" className="link-button mono" onClick={() => setChosen(v)} aria-label={t.show(v.id.slice(0, 8))}>
          {v.id.slice(0, 8)}
        </button>
      ),
    },
    { id: "message", header: t.message, width: "minmax(12rem, 3fr)", render: (v) => v.message || "—" },
    { id: "author", header: t.author, width: "8rem", render: (v) => v.author ?? "—" },
    { id: "time", header: t.time, width: "12rem", render: (v) => formatDate(v.created_at) },
    { id: "size", header: t.size, width: "6.5rem", render: (v) => <span className="num">{formatBytes(v.total_size)}</span> },
    { id: "files", header: t.files, width: "5rem", render: (v) => <span className="num">{v.file_count.toLocaleString("en")}</span> },
    {
      id: "tags",
      header: t.tags,
      width: "minmax(6rem, 1fr)",
      render: (v) => [...v.tags, ...(v.parents.length > 1 ? [t.merge] : [])].join(", "),
    },
  ];

  if (!hasCommits) return <EmptyState title={assetsEn.asset.noCommits} hint={assetsEn.asset.noCommitsHint} />;
  if (rows.error && rows.count === null) return <ErrorState error={rows.error} onRetry={rows.reload} />;
  if (rows.count === null) return <Loading />;
  return (
    <div className="versions">
      <VirtualTable
        label={t.label}
        columns={columns}
        count={rows.count}
        rowAt={rows.rowAt}
        rowKey={(v) => v.id}
        onRange={rows.onRange}
        rowClass={(v) => (v.id === chosen?.id ? "selected" : undefined)}
      />
      {chosen && (
        <section className="card version-detail" aria-label={t.show(chosen.id.slice(0, 8))}>
          <div className="card-title">
            <h2 className="mono">{chosen.id.slice(0, 12)}</h2>
            <button type="button" onClick={() => onOpen(chosen.id)}>
              {t.openAt}
            </button>
          </div>
          <p>{chosen.message}</p>
          <p className="muted small">
            {chosen.parents.length ? chosen.parents.map((p) => p.slice(0, 8)).join(" + ") : "—"}
          </p>
          <h3>{t.metadata}</h3>
          {Object.keys(chosen.metadata).length ? <JsonTree value={chosen.metadata} what={t.metadata.toLowerCase()} /> : <p className="muted">{t.noMetadata}</p>}
        </section>
      )}
    </div>
  );
}

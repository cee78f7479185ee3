// The files of one version in path order (name, size, hashes, modified), each a download, fetched page
// by page as the table scrolls: a version of 10,000 files opens as fast as one of ten.
import { EmptyState, ErrorState, formatDate, Loading, usePagedRows, VirtualTable, type Column } from "../components";
import { formatBytes } from "../runs/format";
import { assetFileUrl, listFilesAt, type FileEntry } from "./api";
import { assetsEn } from "./strings";

/** `at` is the version's commit id (so the rows never mix two versions); `refName` what the reader chose. */
export function FilesAtRef({ assetId, at, refName }: { assetId: string; at: string; refName: string }) {
  const rows = usePagedRows<FileEntry>(
    (page, pageSize, signal) => listFilesAt(assetId, at, page, pageSize, signal),
    `${assetId}:${at}`,
    500,
  );
  if (rows.error && rows.count === null) return <ErrorState error={rows.error} onRetry={rows.reload} />;
  if (rows.count === null) return <Loading />;
  if (rows.count === 0) return <EmptyState title={assetsEn.files.empty} />;
  return (
    <FileTable
      label={assetsEn.files.label}
      count={rows.count}
      rowAt={rows.rowAt}
      onRange={rows.onRange}
      href={(f) => assetFileUrl(assetId, f.path, refName)}
    />
  );
}

interface FileTableProps {
  label: string;
  count: number;
  rowAt: (index: number) => FileEntry | undefined;
  onRange?: (first: number, last: number) => void;
  href: (file: FileEntry) => string;
}

/** The one files table of artifacts and versions. */
export function FileTable({ label, count, rowAt, onRange, href }: FileTableProps) {
  const t = assetsEn.files;
  const columns: Column<FileEntry>[] = [
    {
      id: "path",
      header: t.path,
      width: "minmax(14rem, 3fr)",
      render: (f) => (
        <a href={href(f)} download title={t.download(f.path)}>
          {f.path}
        </a>
      ),
    },
    { id: "size", header: t.size, width: "6.5rem", render: (f) => <span className="num">{formatBytes(f.size)}</span> },
    { id: "sha256", header: t.sha256, width: "9rem", render: (f) => <span className="mono" title={f.sha256}>{f.sha256.slice(0, 12)}</span> },
    { id: "md5", header: t.md5, width: "9rem", render: (f) => <span className="mono" title={f.md5}>{f.md5.slice(0, 12)}</span> },
    { id: "mtime", header: t.modified, width: "12rem", render: (f) => formatDate(f.mtime) },
  ];
  return (
    <div className="file-table">
      <p className="muted count">{t.count(count)}</p>
      <VirtualTable label={label} columns={columns} count={count} rowAt={rowAt} rowKey={(f) => f.path} onRange={onRange} rowHeight={36} />
    </div>
  );
}

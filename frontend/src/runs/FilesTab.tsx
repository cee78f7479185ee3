// The run's files (its manifest), each a download link.
import { useEffect, useState } from "react";
import { EmptyState, ErrorState, Loading, formatDate } from "../components";
import { fileUrl, listFiles } from "./api";
import { formatBytes } from "./format";
import { runsEn } from "./strings";
import type { FileEntry } from "./types";

export function FilesTab({ runId }: { runId: string }) {
  const [files, setFiles] = useState<FileEntry[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const controller = new AbortController();
    listFiles(runId, controller.signal)
      .then((f) => setFiles([...f].sort((a, b) => a.path.localeCompare(b.path))))
      .catch((e: unknown) => !controller.signal.aborted && setError(e));
    return () => controller.abort();
  }, [runId]);
  if (error) return <ErrorState error={error} />;
  if (!files) return <Loading />;
  if (files.length === 0) return <EmptyState title={runsEn.files.empty} />;
  return (
    <table className="data-table">
      <thead>
        <tr>
          <th>{runsEn.files.path}</th>
          <th className="num">{runsEn.files.size}</th>
          <th>{runsEn.files.modified}</th>
        </tr>
      </thead>
      <tbody>
        {files.map((f) => (
          <tr key={f.path}>
            <td>
              <a href={fileUrl(runId, f.path)} download title={runsEn.files.download(f.path)}>
                {f.path}
              </a>
            </td>
            <td className="num">{formatBytes(f.size)}</td>
            <td>{formatDate(f.mtime)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

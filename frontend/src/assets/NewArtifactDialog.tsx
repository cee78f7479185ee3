// A new artifact from files dropped (or chosen) in the browser: the drop zone, what will be sent, and
// the upload's progress (checking, then sending only what the server lacks, then saving).
import { useState, type DragEvent } from "react";
import type { Node } from "../api";
import { Dialog, FormError } from "../components";
import { en } from "../i18n/en";
import { formatBytes } from "../runs/format";
import { assetsEn } from "./strings";
import { droppedFiles, uploadArtifact, type Picked, type Progress } from "./upload";

export function NewArtifactDialog({ parent, onCreated, onClose }: { parent: Node; onCreated: (node: Node) => void; onClose: () => void }) {
  const [name, setName] = useState("");
  const [files, setFiles] = useState<Picked[]>([]);
  const [over, setOver] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const t = assetsEn.upload;
  const size = files.reduce((n, f) => n + f.file.size, 0);

  const add = (more: Picked[]) => setFiles((have) => [...have.filter((f) => !more.some((m) => m.path === f.path)), ...more]);
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    add(await droppedFiles(e.dataTransfer));
  };
  const start = async () => {
    if (files.length === 0) return setError(new Error(t.noFiles));
    setError(null);
    try {
      onCreated(await uploadArtifact(parent.id, name.trim(), files, setProgress));
    } catch (e) {
      setError(e);
      setProgress(null);
    }
  };
  const busy = progress !== null;
  return (
    <Dialog
      title={t.title}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose} disabled={busy}>
            {en.common.cancel}
          </button>
          <button type="button" className="primary" onClick={start} disabled={busy || !name.trim()}>
            {busy ? en.common.working : t.start}
          </button>
        </>
      }
    >
      <label>
        {t.name}
        <input value={name} required autoFocus onChange={(e) => setName(e.target.value)} />
      </label>
      <div
        className={over ? "dropzone over" : "dropzone"}
        data-testid="dropzone"
        onDragOver={(e) => (e.preventDefault(), setOver(true))}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p>{t.drop}</p>
        <label className="inline-field">
          {t.orPick}
          <input
            type="file"
            multiple
            disabled={busy}
            onChange={(e) => add([...(e.target.files ?? [])].map((file) => ({ path: file.name, file })))}
          />
        </label>
      </div>
      {files.length > 0 && <p data-testid="upload-files">{t.files(files.length, formatBytes(size))}</p>}
      {progress && (
        <div role="status" aria-live="polite">
          <progress className="upload-progress" aria-label={t.progress} max={progress.total || 1} value={progress.done} />
          <p className="muted small">
            {progress.phase === "hashing" && t.hashing(progress.done, progress.total)}
            {progress.phase === "sending" && t.sending(formatBytes(progress.done), formatBytes(progress.total))}
            {progress.phase === "committing" && (progress.total === 0 ? t.nothingToSend : t.committing)}
          </p>
        </div>
      )}
      <FormError error={error} />
    </Dialog>
  );
}

// One badge per node kind, a coloured letter that needs no icon font (the kind is written out beside
// it, so the badge is decoration only).
import type { Kind } from "../api";

const LETTERS: Record<Kind, string> = {
  Folder: "F",
  Shortcut: "↗",
  Run: "R",
  Artifact: "A",
  AutoTune: "T",
  Model: "M",
  Dataset: "D",
};

export function NodeIcon({ kind }: { kind: Kind }) {
  return (
    <span className={`node-icon node-icon-${kind.toLowerCase()}`} aria-hidden="true">
      {LETTERS[kind] ?? "•"}
    </span>
  );
}

export function StatusBadge({ status }: { status: string | undefined }) {
  if (!status) return null;
  return <span className={`badge status-${status.toLowerCase()}`}>{status}</span>;
}

export function Labels({ labels }: { labels: string[] }) {
  if (labels.length === 0) return null;
  return (
    <span className="labels">
      {labels.map((label) => (
        <span key={label} className="label">
          {label}
        </span>
      ))}
    </span>
  );
}

// A run's status as a coloured label (colour is never the only cue: the word is always there).
import { runsEn } from "./strings";

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`status status-${status.toLowerCase()}`} data-status={status}>
      {runsEn.status[status] ?? status}
    </span>
  );
}

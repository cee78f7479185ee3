// How run values read on screen: durations, sizes, statuses.

/** 12.3 s, 4m 05s, 2h 03m, 3d 4h. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** A run's duration, counting up to now while it is running. */
export function runDuration(run: { duration: number | null; started_at: string | null; status: string }, now = Date.now()) {
  if (run.duration !== null) return run.duration;
  if (run.status === "Running" && run.started_at) return (now - Date.parse(run.started_at)) / 1000;
  return null;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** A key as the filter/order language writes it after its prefix: bare when it can be, else backticked. */
export function quoteKey(key: string): string {
  return /^[^\s()`'",=!<>]+$/.test(key) ? key : `\`${key}\``;
}

/** `2026-12-01 05:07` in local time: a start or end that fits a narrow, aligned column. */
export function formatShortTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// How dates and labels read on screen.

const dateTime = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

/** "Mar 1, 2026, 10:15 AM" in the reader's time zone; a dash for no date. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** Labels typed as "a, b ,c" → ["a", "b", "c"] (blanks and repeats dropped). */
export function parseLabels(text: string): string[] {
  return [...new Set(text.split(",").map((s) => s.trim()).filter(Boolean))];
}

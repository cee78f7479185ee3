// Filter keys the runs in scope really have (GET /api/v1/runs/keys): completions for the key being typed,
// and the keys a filter names that no run has (such a term matches nothing, silently, so it is warned of).
import { tokenize } from "./filterLang";

export interface KnownKeys {
  attributes: string[];
  params: string[];
  metrics: string[];
  tags: string[];
  truncated: boolean;
}

type Kind = "attributes" | "params" | "metrics" | "tags";
const KINDS: Kind[] = ["metrics", "params", "tags", "attributes"];
const SINGULAR: Record<string, Kind> = {
  metric: "metrics",
  metrics: "metrics",
  param: "params",
  params: "params",
  tag: "tags",
  tags: "tags",
  attribute: "attributes",
  attributes: "attributes",
};
const MAX_SUGGESTIONS = 8;

export interface Completion {
  /** Where the text being completed starts and ends (replaced by `insert`). */
  start: number;
  end: number;
  options: { insert: string; label: string }[];
}

const bare = (key: string) => (/^[^\s()`'",=!<>]+$/.test(key) ? key : `\`${key}\``);

/** What can complete the word that ends at `caret`: a prefix (`met` → `metrics.`) or a key after one. */
export function complete(text: string, caret: number, keys: KnownKeys | null): Completion | null {
  if (!keys) return null;
  const before = text.slice(0, caret);
  const m = /(?:^|[\s(,])((?:[A-Za-z]+)(?:\.(?:`[^`]*|[^\s()`'",=!<>]*))?)$/.exec(before);
  if (!m) return null;
  const word = m[1];
  const start = caret - word.length;
  const dot = word.indexOf(".");
  let options: { insert: string; label: string }[];
  if (dot < 0) {
    if (word.length < 1) return null;
    const lower = word.toLowerCase();
    options = KINDS.filter((k) => k.startsWith(lower) && k !== lower).map((k) => ({ insert: `${k}.`, label: `${k}.` }));
  } else {
    const kind = SINGULAR[word.slice(0, dot).toLowerCase()];
    if (!kind) return null;
    const typed = word.slice(dot + 1).replace(/^`/, "").toLowerCase();
    const prefix = word.slice(0, dot + 1);
    const found = keys[kind].filter((k) => k.toLowerCase().includes(typed));
    found.sort((a, b) => Number(!a.toLowerCase().startsWith(typed)) - Number(!b.toLowerCase().startsWith(typed)));
    options = found
      .filter((k) => `${prefix}${bare(k)}` !== word)
      .map((k) => ({ insert: `${prefix}${bare(k)}`, label: `${prefix}${k}` }));
  }
  const end = caret + (/^[^\s()'",=!<>]*/.exec(text.slice(caret))?.[0].length ?? 0);
  return options.length ? { start, end, options: options.slice(0, MAX_SUGGESTIONS) } : null;
}

/** The `params.`/`metrics.`/`tags.` keys in `text` that no run in scope has (none when the list was cut). */
export function unknownKeys(text: string, keys: KnownKeys | null): string[] {
  if (!keys || keys.truncated) return [];
  const tokens = tokenize(text).filter((t) => t.kind !== "space");
  const unknown: string[] = [];
  tokens.forEach((token, i) => {
    if (token.kind !== "prefix") return;
    const kind = SINGULAR[token.text.slice(0, -1).toLowerCase()];
    const next = tokens[i + 1];
    if (!kind || !next || next.kind !== "key") return;
    const key = next.text.replace(/^[`"']|[`"']$/g, "");
    if (key && !keys[kind].includes(key)) unknown.push(`${kind}.${key}`);
  });
  return [...new Set(unknown)];
}

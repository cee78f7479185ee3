// The filter language's lexer (docs/search.md; em/search/grammar.py is the reference), for colouring the
// search box and placing the server's error under the right characters. It never decides what is valid —
// the server's parser does, and answers with the position of the first bad token.
import type { FilterErrorDetail } from "./types";

export type TokenKind =
  | "prefix" // metrics.  params.  tags.  attributes.
  | "key" // the key after a prefix: bare, `backticked` or "quoted"
  | "function" // MIN MAX LATEST
  | "operator" // = != < <= > >= LIKE ILIKE
  | "keyword" // AND OR NOT IN ASC DESC
  | "string"
  | "number"
  | "punct" // ( ) ,
  | "space"
  | "other"; // anything else: left plain, the server says what is wrong with it

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

const PREFIX = /^(metrics?|params?|tags?|attributes?)\./i;
const BARE_KEY = /^[^\s()`'",=!<>]+/;
const QUOTED_KEY = /^`[^`]*`?/;
const STRING = /^(?:"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?)/s;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])/;
const SYMBOL_OP = /^(?:!=|<>|<=|>=|==|=|<|>)/;
const WORD = /^[A-Za-z_][\w.]*/;
const SPACE = /^\s+/;
const FUNCTIONS = new Set(["min", "max", "latest"]);
const WORD_OPS = new Set(["like", "ilike"]);
const KEYWORDS = new Set(["and", "or", "not", "in", "asc", "desc"]);

/** Split `text` into tokens that cover it exactly (their texts joined give `text` back). */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let afterPrefix = false;
  const push = (kind: TokenKind, length: number) => {
    tokens.push({ kind, text: text.slice(pos, pos + length), start: pos, end: pos + length });
    pos += length;
  };
  while (pos < text.length) {
    const rest = text.slice(pos);
    let m: RegExpExecArray | null;
    if (afterPrefix) {
      afterPrefix = false;
      m = QUOTED_KEY.exec(rest) ?? STRING.exec(rest) ?? BARE_KEY.exec(rest);
      if (m) {
        push("key", m[0].length);
        continue;
      }
    }
    if ((m = SPACE.exec(rest))) push("space", m[0].length);
    else if ((m = PREFIX.exec(rest))) {
      push("prefix", m[0].length);
      afterPrefix = true;
    } else if ((m = STRING.exec(rest))) push("string", m[0].length);
    else if ((m = NUMBER.exec(rest))) push("number", m[0].length);
    else if ((m = SYMBOL_OP.exec(rest))) push("operator", m[0].length);
    else if (rest[0] === "(" || rest[0] === ")" || rest[0] === ",") push("punct", 1);
    else if ((m = WORD.exec(rest))) {
      const word = m[0].toLowerCase();
      const kind: TokenKind = FUNCTIONS.has(word)
        ? "function"
        : WORD_OPS.has(word)
          ? "operator"
          : KEYWORDS.has(word)
            ? "keyword"
            : "other";
      push(kind, m[0].length);
    } else push("other", 1);
  }
  return tokens;
}

/** The characters to underline for a server error: [start, end) in `text`; end = start means "here". */
export interface ErrorSpan {
  start: number;
  end: number;
  message: string;
}

/** Offset in `text` of a 1-based line and column (for errors that carry only those). */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return Math.min(text.length, offset + Math.max(0, column - 1));
}

/** Where to mark the server's `invalid_filter` error in the text the user typed.
 *
 * `sentOffset` is how many characters the client put before the user's text in what it sent (0 when it
 * sends it as typed). The span covers the server's token when the text there matches it, else the token
 * our lexer finds there, so the underline sits on whole words; at the end of the text it is empty (a caret).
 */
export function errorSpan(
  text: string,
  detail: Partial<FilterErrorDetail> | null | undefined,
  message: string,
  sentOffset = 0,
): ErrorSpan {
  let start =
    typeof detail?.position === "number"
      ? detail.position - sentOffset
      : typeof detail?.line === "number" && typeof detail?.column === "number"
        ? offsetOf(text, detail.line, detail.column) - sentOffset
        : text.length;
  start = Math.max(0, Math.min(text.length, start));
  const token = typeof detail?.token === "string" ? detail.token : "";
  let end = start;
  if (token && text.startsWith(token, start)) end = start + token.length;
  else if (start < text.length) {
    const hit = tokenize(text).find((t) => t.start <= start && start < t.end && t.kind !== "space");
    end = hit ? hit.end : start + 1;
  }
  return { start, end, message };
}

const NIL_ID = "00000000-0000-0000-0000-000000000000";

/** The filter sent when sub-folders are left out: the folder's own runs by id, then the user's filter.
 * `offset` is where the user's text starts in it, to map the server's error position back. */
export function scopedFilter(filter: string, directIds: string[] | null): { text: string; offset: number } {
  if (directIds === null) return { text: filter, offset: 0 };
  // No direct runs: the nil id, which names no run, keeps the filter valid and matching nothing.
  const ids = (directIds.length ? directIds : [NIL_ID]).map((id) => `'${id}'`).join(", ");
  const head = `attributes.run_id IN (${ids})`;
  if (!filter.trim()) return { text: head, offset: 0 };
  const prefix = `${head} AND (`;
  return { text: `${prefix}${filter})`, offset: prefix.length };
}

/** Examples for the dropdown: each is a working filter over what runs usually hold. */
export const FILTER_EXAMPLES: { filter: string; label: string }[] = [
  { filter: "metrics.val.accuracy > 0.9", label: "Validation accuracy above 0.9" },
  { filter: "MIN(metrics.train.loss) < 0.2", label: "Training loss ever below 0.2" },
  { filter: "params.lr = 0.01 AND params.optimizer IN ('adam', 'sgd')", label: "Parameter values" },
  { filter: "attributes.status = 'Running'", label: "Running now" },
  { filter: "attributes.status = 'Error' OR attributes.status = 'Killed'", label: "Failed or killed" },
  { filter: "attributes.start_time > '2026-01-01'", label: "Started this year" },
  { filter: "attributes.name LIKE 'mnist%'", label: "Name starts with mnist" },
  { filter: "tags.`my tag` = 'x' AND NOT params.model.layers >= 4", label: "Tags, NOT and backticked keys" },
];

const HISTORY_KEY = "em.runs.filterHistory";
const HISTORY_SIZE = 20;

/** Filters searched before, newest first (localStorage; tolerant of a missing or corrupted entry). */
export function loadHistory(storage: Storage = localStorage): string[] {
  try {
    const value: unknown = JSON.parse(storage.getItem(HISTORY_KEY) ?? "[]");
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}

export function rememberFilter(filter: string, storage: Storage = localStorage): string[] {
  const trimmed = filter.trim();
  if (!trimmed) return loadHistory(storage);
  const next = [trimmed, ...loadHistory(storage).filter((f) => f !== trimmed)].slice(0, HISTORY_SIZE);
  storage.setItem(HISTORY_KEY, JSON.stringify(next));
  return next;
}

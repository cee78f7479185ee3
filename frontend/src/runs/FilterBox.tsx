// The search box of the runs table: the filter language coloured as it is typed, keys completed from
// those the runs in scope have (and a key none has warned of), the server's error underlined under the bad
// token with its message, examples, and recent filters (localStorage).
import { useId, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { complete, unknownKeys, type Completion, type KnownKeys } from "./filterKeys";
import { FILTER_EXAMPLES, loadHistory, rememberFilter, tokenize, type ErrorSpan } from "./filterLang";
import { runsEn } from "./strings";

/** The coloured copy of the text drawn under the transparent input; the error span gets a wavy line. */
export function highlight(text: string, error: ErrorSpan | null): ReactNode[] {
  const out: ReactNode[] = [];
  for (const token of tokenize(text)) {
    // Split a token where the error span starts or ends so only the bad characters are marked.
    const cuts = [token.start, token.end];
    if (error && error.start > token.start && error.start < token.end) cuts.push(error.start);
    if (error && error.end > token.start && error.end < token.end) cuts.push(error.end);
    cuts.sort((a, b) => a - b);
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [a, b] = [cuts[i], cuts[i + 1]];
      if (a === b) continue;
      const bad = error !== null && a >= error.start && b <= error.end && error.end > error.start;
      out.push(
        <span key={a} className={`tok tok-${token.kind}${bad ? " tok-error" : ""}`}>
          {text.slice(a, b)}
        </span>,
      );
    }
  }
  return out;
}

interface FilterBoxProps {
  value: string;
  onChange: (text: string) => void;
  onSubmit: (text: string) => void;
  error: ErrorSpan | null;
  /** The keys of the runs in scope, once loaded. */
  keys?: KnownKeys | null;
}

export function FilterBox({ value, onChange, onSubmit, error, keys = null }: FilterBoxProps) {
  const inputId = useId();
  const errorId = useId();
  const listId = useId();
  const mirror = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [history, setHistory] = useState(() => loadHistory());
  const [completion, setCompletion] = useState<Completion | null>(null);
  const [active, setActive] = useState(0);
  const unknown = useMemo(() => unknownKeys(value, keys), [value, keys]);

  function suggest(text: string, caret: number | null) {
    setCompletion(caret === null ? null : complete(text, caret, keys));
    setActive(0);
  }
  // Where the caret goes once an accepted completion is in the box. It is placed as the new text is
  // committed, before the next key is handled: placed on the next animation frame instead, it jumped
  // back over whatever was typed quickly after Tab ("accuracy > 0.9" became "accuracy 0.9 >").
  const caretAfter = useRef<{ text: string; caret: number } | null>(null);
  useLayoutEffect(() => {
    const pending = caretAfter.current;
    caretAfter.current = null;
    if (pending && input.current && input.current.value === pending.text) {
      input.current.setSelectionRange(pending.caret, pending.caret);
    }
  }, [value]);

  function accept(choice: { insert: string }) {
    if (!completion) return;
    const next = value.slice(0, completion.start) + choice.insert + value.slice(completion.end);
    caretAfter.current = { text: next, caret: completion.start + choice.insert.length };
    onChange(next);
    setCompletion(null);
  }

  function submit(text: string) {
    setHistory(rememberFilter(text));
    onSubmit(text);
  }
  const syncScroll = (e: React.UIEvent<HTMLInputElement>) => {
    if (mirror.current) mirror.current.scrollLeft = e.currentTarget.scrollLeft;
  };
  // The caret for an error at the end of the text (nothing to underline there).
  const caretAt = error && error.end === error.start ? error.start : null;

  return (
    <form
      className="filterbox"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        submit(value);
      }}
    >
      <label htmlFor={inputId} className="visually-hidden">
        {runsEn.filter.label}
      </label>
      <div className="filter-row">
        <div className={error ? "filter-field has-error" : "filter-field"}>
          <div className="filter-mirror" ref={mirror} aria-hidden="true">
            {highlight(value, error)}
            {caretAt !== null && <span className="tok-caret">{"\u200b"}</span>}
            {" "}
          </div>
          <input
            id={inputId}
            className="filter-input"
            type="text"
            spellCheck={false}
            autoComplete="off"
            value={value}
            placeholder={runsEn.filter.placeholder}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
            aria-autocomplete="list"
            aria-controls={completion ? listId : undefined}
            aria-expanded={completion ? true : false}
            role="combobox"
            ref={input}
            onChange={(e) => {
              onChange(e.target.value);
              suggest(e.target.value, e.target.selectionStart);
            }}
            onKeyDown={(e) => {
              if (!completion) return;
              const n = completion.options.length;
              if (e.key === "ArrowDown" || e.key === "ArrowUp") {
                e.preventDefault();
                setActive((i) => (i + (e.key === "ArrowDown" ? 1 : n - 1)) % n);
              } else if (e.key === "Tab" || e.key === "Enter") {
                e.preventDefault();
                accept(completion.options[active]);
              } else if (e.key === "Escape") {
                setCompletion(null);
              }
            }}
            onBlur={() => setCompletion(null)}
            onScroll={syncScroll}
            onKeyUp={(e) => syncScroll(e as unknown as React.UIEvent<HTMLInputElement>)}
            data-testid="filter-input"
          />
          {completion && (
            <ul className="filter-suggestions" id={listId} role="listbox" data-testid="filter-suggestions">
              {completion.options.map((option, i) => (
                <li
                  key={option.insert}
                  role="option"
                  aria-selected={i === active}
                  className={i === active ? "active" : undefined}
                  onMouseDown={(e) => {
                    e.preventDefault(); // keep the focus in the input
                    accept(option);
                  }}
                >
                  {option.label}
                </li>
              ))}
            </ul>
          )}
        </div>
        <button type="submit" className="primary">
          {runsEn.filter.search}
        </button>
        {value && (
          <button type="button" onClick={() => submit("")}>
            {runsEn.filter.clear}
          </button>
        )}
        <select
          aria-label={runsEn.filter.examples}
          value=""
          onChange={(e) => {
            onChange(e.target.value);
            submit(e.target.value);
          }}
        >
          <option value="">{runsEn.filter.examples}</option>
          {FILTER_EXAMPLES.map((ex) => (
            <option key={ex.filter} value={ex.filter} title={ex.filter}>
              {ex.label}: {ex.filter}
            </option>
          ))}
        </select>
        <select
          aria-label={runsEn.filter.history}
          value=""
          onChange={(e) => {
            onChange(e.target.value);
            submit(e.target.value);
          }}
        >
          <option value="">{runsEn.filter.history}</option>
          {history.length === 0 && <option disabled>{runsEn.filter.noHistory}</option>}
          {history.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
      </div>
      {unknown.length > 0 && !error && (
        <p className="filter-warning" role="status" data-testid="filter-warning">
          {runsEn.filter.unknownKeys(unknown)}
        </p>
      )}
      {error && (
        <p id={errorId} className="filter-error" role="alert" data-testid="filter-error">
          <span className="filter-error-pointer" aria-hidden="true">
            {value.slice(0, error.start).replace(/[^\t]/g, "\u00a0")}^
          </span>
          {error.message}
        </p>
      )}
    </form>
  );
}

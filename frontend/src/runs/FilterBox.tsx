// The search box of the runs table: the filter language coloured as it is typed, the server's error
// underlined under the bad token with its message, examples, and recent filters (localStorage).
import { useId, useRef, useState, type ReactNode } from "react";
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
}

export function FilterBox({ value, onChange, onSubmit, error }: FilterBoxProps) {
  const inputId = useId();
  const errorId = useId();
  const mirror = useRef<HTMLDivElement>(null);
  const [history, setHistory] = useState(() => loadHistory());

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
            onChange={(e) => onChange(e.target.value)}
            onScroll={syncScroll}
            onKeyUp={(e) => syncScroll(e as unknown as React.UIEvent<HTMLInputElement>)}
            data-testid="filter-input"
          />
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

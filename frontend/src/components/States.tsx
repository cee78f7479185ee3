// The three states every screen has besides its content: loading, empty, failed.
import { useState, type ReactNode } from "react";
import { en } from "../i18n/en";

export function Loading({ label = en.app.loading }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function EmptyState({ title, hint, children }: { title: string; hint?: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {hint && <p className="muted">{hint}</p>}
      {children}
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="state state-error" role="alert">
      <p>{message}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {en.app.retry}
        </button>
      )}
    </div>
  );
}

/** An inline error line for forms and dialogs (nothing when there is no error). */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}

/** The first steps of recording runs, for empty places and the API-key dialog: the sign-in line for this
 * very server (copyable; it asks for the key without echo, keeping it out of shell history) and a
 * five-line script. */
export function GetStarted() {
  const login = `em login --host ${window.location.origin}`;
  const script = [
    "import em",
    'with em.create_run(name="first-run", hparams={"lr": 0.01}) as run:',
    "    for step in range(100):",
    '        run.log("train", {"loss": 1 / (step + 1)}, step=step)',
    'run.upload(folder="experiments", make_folder=True)',
  ].join("\n");
  return (
    <div className="get-started" data-testid="get-started">
      <p className="muted">{en.start.signIn}</p>
      <CopyLine text={login} label={en.start.loginLabel} />
      <p className="muted">{en.start.record}</p>
      <CopyLine text={script} label={en.start.scriptLabel} block />
    </div>
  );
}

function CopyLine({ text, label, block }: { text: string; label: string; block?: boolean }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="copy-line" style={{ display: "flex", gap: "0.5rem", alignItems: "flex-start", margin: "0.25rem 0 0.75rem" }}>
      <pre
        aria-label={label}
        style={{ flex: 1, margin: 0, padding: "0.5rem 0.75rem", background: "var(--code-bg, #f3f4f6)", borderRadius: 4, overflowX: "auto", whiteSpace: block ? "pre" : "pre-wrap", textAlign: "left" }}
      >
        <code>{text}</code>
      </pre>
      <button
        type="button"
        onClick={async () => {
          await navigator.clipboard?.writeText(text);
          setCopied(true);
        }}
      >
        {copied ? en.common.copied : en.common.copy}
      </button>
    </div>
  );
}

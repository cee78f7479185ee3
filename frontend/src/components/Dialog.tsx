// A modal dialog: focus moves in when it opens and back where it was when it closes, Escape and the
// backdrop close it, Tab stays inside.
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { en } from "../i18n/en";

interface DialogProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** Buttons at the bottom; a Close button when not given. */
  footer?: ReactNode;
  wide?: boolean;
}

const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea, [tabindex]:not([tabindex='-1'])";

export function Dialog({ title, onClose, children, footer, wide }: DialogProps) {
  const titleId = useId();
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const first = box.current?.querySelector<HTMLElement>("[autofocus], input, select, textarea, button");
    (first ?? box.current)?.focus();
    return () => before?.focus?.();
  }, []);

  function onKeyDown(event: React.KeyboardEvent) {
    if (event.key === "Escape") {
      event.stopPropagation();
      onClose();
    } else if (event.key === "Tab" && box.current) {
      const items = [...box.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
      if (items.length === 0) return;
      const [first, last] = [items[0], items[items.length - 1]];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  }

  return (
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={box}
        className={wide ? "dialog dialog-wide" : "dialog"}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <h2 id={titleId}>{title}</h2>
        <div className="dialog-body">{children}</div>
        <div className="dialog-footer">
          {footer ?? (
            <button type="button" onClick={onClose}>
              {en.common.close}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}

interface ConfirmProps {
  title: string;
  body: string;
  confirm: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  danger?: boolean;
}

/** "Are you sure?" with the action's own name on the button; shows the server's error if it fails. */
export function ConfirmDialog({ title, body, confirm, onConfirm, onClose, danger }: ConfirmProps) {
  return (
    <FormDialog title={title} submit={confirm} onSubmit={onConfirm} onClose={onClose} danger={danger}>
      <p>{body}</p>
    </FormDialog>
  );
}

interface FormDialogProps {
  title: string;
  submit: string;
  onSubmit: () => Promise<unknown>;
  onClose: () => void;
  children: ReactNode;
  danger?: boolean;
  disabled?: boolean;
}

/** A dialog holding a form: submits on Enter, closes on success, keeps the error in view otherwise. */
export function FormDialog({ title, submit, onSubmit, onClose, children, danger, disabled }: FormDialogProps) {
  const formId = useId();
  const [state, setState] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            {en.common.cancel}
          </button>
          <button
            type="submit"
            form={formId}
            className={danger ? "danger" : "primary"}
            disabled={disabled || state.busy}
          >
            {state.busy ? en.common.working : submit}
          </button>
        </>
      }
    >
      <form
        id={formId}
        onSubmit={async (event) => {
          event.preventDefault();
          setState({ busy: true, error: null });
          try {
            await onSubmit();
            onClose();
          } catch (error) {
            setState({ busy: false, error });
          }
        }}
      >
        {children}
        {state.error ? (
          <p className="form-error" role="alert">
            {state.error instanceof Error ? state.error.message : String(state.error)}
          </p>
        ) : null}
      </form>
    </Dialog>
  );
}

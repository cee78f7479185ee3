// API keys: create one (its secret is shown once, with a copy button), list them, revoke.
import { useEffect, useState } from "react";
import { createKey, listKeys, revokeKey, type ApiKey, type CreatedApiKey, type KeyScope } from "../api";
import { ConfirmDialog, Dialog, EmptyState, ErrorState, FormError, formatDate, GetStarted, Loading } from "../components";
import { en } from "../i18n/en";

export function ApiKeys() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const [name, setName] = useState("");
  const [scope, setScope] = useState<KeyScope>("write");
  const [createError, setCreateError] = useState<unknown>(null);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    listKeys(controller.signal).then(
      (k) => (setKeys(k), setError(null)),
      (e: unknown) => !controller.signal.aborted && setError(e),
    );
    return () => controller.abort();
  }, [version]);

  return (
    <div className="page page-keys">
      <h1>{en.keys.title}</h1>
      <p className="muted">{en.keys.intro}</p>
      <GetStarted />
      <form
        className="inline-form card"
        onSubmit={async (e) => {
          e.preventDefault();
          setCreateError(null);
          try {
            setCreated(await createKey(name.trim(), scope));
            setName("");
            setVersion((v) => v + 1);
          } catch (err) {
            setCreateError(err);
          }
        }}
      >
        <label>
          {en.keys.name}
          <input value={name} required onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          {en.keys.scope}
          <select value={scope} onChange={(e) => setScope(e.target.value as KeyScope)}>
            <option value="write">{en.keys.write}</option>
            <option value="read">{en.keys.read}</option>
          </select>
        </label>
        <button type="submit" className="primary">
          {en.keys.create}
        </button>
        <FormError error={createError} />
      </form>
      {error ? (
        <ErrorState error={error} onRetry={() => setVersion((v) => v + 1)} />
      ) : !keys ? (
        <Loading />
      ) : keys.length === 0 ? (
        <EmptyState title={en.keys.empty} />
      ) : (
        <table className="simple">
          <thead>
            <tr>
              <th>{en.keys.name}</th>
              <th>{en.keys.prefix}</th>
              <th>{en.keys.scope}</th>
              <th>{en.keys.created}</th>
              <th>{en.keys.expires}</th>
              <th>{en.keys.lastUsed}</th>
              <th>
                <span className="sr-only">{en.common.actions}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td>{key.name}</td>
                <td className="mono">{key.prefix}…</td>
                <td>{key.scope === "read" ? en.keys.read : en.keys.write}</td>
                <td>{formatDate(key.created_at)}</td>
                <td>{key.expires_at ? formatDate(key.expires_at) : en.keys.never}</td>
                <td>{key.last_used_at ? formatDate(key.last_used_at) : en.keys.never}</td>
                <td>
                  <button type="button" className="danger" onClick={() => setRevoking(key)}>
                    {en.keys.revoke}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {created && <CreatedKey created={created} onClose={() => setCreated(null)} />}
      {revoking && (
        <ConfirmDialog
          title={en.keys.revokeTitle(revoking.name)}
          body={en.keys.revokeBody}
          confirm={en.keys.revoke}
          danger
          onConfirm={async () => (await revokeKey(revoking.id), setVersion((v) => v + 1))}
          onClose={() => setRevoking(null)}
        />
      )}
    </div>
  );
}

function CreatedKey({ created, onClose }: { created: CreatedApiKey; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Dialog title={en.keys.createdTitle} onClose={onClose}>
      <p>{en.keys.createdBody}</p>
      <div className="secret">
        <input
          readOnly
          value={created.key}
          aria-label={en.keys.createdTitle}
          data-testid="new-key"
          onFocus={(e) => e.target.select()}
        />
        <button
          type="button"
          onClick={async () => {
            await navigator.clipboard?.writeText(created.key);
            setCopied(true);
          }}
        >
          {copied ? en.common.copied : en.common.copy}
        </button>
      </div>
      {/* The T9k SDK takes only UUID keys: this form of the same key is shown once too (docs/t9k.md). */}
      <p className="muted" data-testid="new-key-uuid">
        For the T9k SDK (<code>em.login(api_key=…)</code>), use its UUID form:{" "}
        <code>{(created as CreatedApiKey & { uuid_key: string }).uuid_key}</code>
      </p>
      <GetStarted />
    </Dialog>
  );
}

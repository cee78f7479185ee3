// Who can see a node and why: its own grants (changeable by the owner) and those inherited from the
// folders above it, with the server's one-sentence summary on top.
import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { getShares, share, unshare, type Node, type PrincipalType, type Share, type ShareLevel, type Shares } from "../api";
import { browseHref, Dialog, ErrorState, FormError, Loading } from "../components";
import { en } from "../i18n/en";

const who = (s: Pick<Share, "type" | "name">) => (s.type === "public" ? en.share.public : `${s.name} (${en.share[s.type]})`);

export function ShareDialog({ node, onClose }: { node: Node; onClose: () => void }) {
  const [shares, setShares] = useState<Shares | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [type, setType] = useState<PrincipalType>("user");
  const [name, setName] = useState("");
  const [level, setLevel] = useState<ShareLevel>("view");
  const [busy, setBusy] = useState(false);
  const owner = node.access === "owner";

  useEffect(() => {
    const controller = new AbortController();
    getShares(node.id, controller.signal).then(setShares, (e: unknown) => !controller.signal.aborted && setError(e));
    return () => controller.abort();
  }, [node.id]);

  async function run(action: () => Promise<unknown>) {
    setBusy(true);
    setActionError(null);
    try {
      await action();
      setShares(await getShares(node.id));
      return true;
    } catch (e) {
      setActionError(e);
      return false;
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={en.share.title(node.name)} onClose={onClose} wide>
      {error ? (
        <ErrorState error={error} />
      ) : !shares ? (
        <Loading />
      ) : (
        <>
          <p className="summary" data-testid="share-summary">
            {shares.summary}
          </p>
          {!owner && <p className="muted">{en.share.onlyOwner(shares.owner)}</p>}
          {shares.shares.length === 0 ? (
            <p className="muted">{en.share.none}</p>
          ) : (
            <table className="simple">
              <thead>
                <tr>
                  <th>{en.share.principal}</th>
                  <th>{en.share.level}</th>
                  <th>{en.share.from}</th>
                  <th>
                    <span className="sr-only">{en.common.actions}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {shares.shares.map((s) => (
                  <tr key={`${s.type}:${s.name}:${s.inherited_from?.id ?? "here"}`}>
                    <td>{who(s)}</td>
                    <td>
                      {owner && !s.inherited_from ? (
                        <select
                          aria-label={`${en.share.level}: ${who(s)}`}
                          value={s.level}
                          disabled={busy}
                          onChange={(e) => run(() => share(node.id, s.type, s.name, e.target.value as ShareLevel))}
                        >
                          <option value="view">{en.share.view}</option>
                          <option value="edit">{en.share.edit}</option>
                        </select>
                      ) : (
                        en.share[s.level]
                      )}
                    </td>
                    <td>
                      {s.inherited_from ? (
                        <Link to={browseHref(s.inherited_from.path)} onClick={onClose} title={en.share.inherited}>
                          {s.inherited_from.path}
                        </Link>
                      ) : (
                        <span className="muted">{en.share.here}</span>
                      )}
                    </td>
                    <td>
                      {owner && !s.inherited_from && (
                        <button
                          type="button"
                          className="link danger-text"
                          disabled={busy}
                          onClick={() => run(() => unshare(node.id, s.type, s.name))}
                        >
                          {en.share.removeGrant(who(s))}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {owner && (
            <form
              className="inline-form"
              onSubmit={async (e) => {
                e.preventDefault();
                if (await run(() => share(node.id, type, type === "public" ? null : name.trim(), level))) setName("");
              }}
            >
              <select aria-label={en.share.principal} value={type} onChange={(e) => setType(e.target.value as PrincipalType)}>
                <option value="user">{en.share.user}</option>
                <option value="group">{en.share.group}</option>
                <option value="public">{en.share.public}</option>
              </select>
              {type !== "public" && (
                <input
                  aria-label={en.share.namePlaceholder[type]}
                  placeholder={en.share.namePlaceholder[type]}
                  value={name}
                  required
                  onChange={(e) => setName(e.target.value)}
                />
              )}
              <select aria-label={en.share.level} value={level} onChange={(e) => setLevel(e.target.value as ShareLevel)}>
                <option value="view">{en.share.view}</option>
                <option value="edit">{en.share.edit}</option>
              </select>
              <button type="submit" className="primary" disabled={busy}>
                {en.share.add}
              </button>
            </form>
          )}
          <FormError error={actionError} />
        </>
      )}
    </Dialog>
  );
}

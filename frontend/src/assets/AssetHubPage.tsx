// The Asset Hub: the reader's model and dataset folders (/<you>/t9k-assethub/{model,dataset}) and
// what they hold; a model or dataset opens on its own page, a sub-folder in the folder browser.
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { ApiError, listChildren, resolvePath, type Node } from "../api";
import { browseHref, EmptyState, ErrorState, Loading, NodeIcon, nodeHref, useSession } from "../components";
import { useApi } from "../components/useApi";
import { NewAssetDialog } from "./NewAssetDialog";
import { assetsEn } from "./strings";
import "./assets.css";

const SHOWN = 200;

async function folderAndChildren(path: string, signal: AbortSignal): Promise<{ folder: Node | null; children: Node[]; count: number }> {
  try {
    const folder = await resolvePath(path, signal);
    const page = await listChildren(folder.id, { ordering: "name", pageSize: SHOWN }, signal);
    return { folder, children: page.results, count: page.count };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { folder: null, children: [], count: 0 };
    throw e;
  }
}

export function AssetHubPage() {
  const { me } = useSession();
  const [making, setMaking] = useState<"Model" | "Dataset" | null>(null);
  const navigate = useNavigate();
  const t = assetsEn.hub;
  return (
    <div className="page hub-page">
      <header className="page-head">
        <h1>{t.title}</h1>
        <span className="spacer" />
        <button type="button" onClick={() => setMaking("Model")}>
          {t.newModel}
        </button>
        <button type="button" onClick={() => setMaking("Dataset")}>
          {t.newDataset}
        </button>
      </header>
      <p className="muted">{t.intro}</p>
      <div className="hub-sections">
        <HubSection title={t.models} path={`${me.root.path}/t9k-assethub/model`} />
        <HubSection title={t.datasets} path={`${me.root.path}/t9k-assethub/dataset`} />
      </div>
      {making && (
        <NewAssetDialog kind={making} onClose={() => setMaking(null)} onCreated={(asset) => navigate(nodeHref(asset))} />
      )}
    </div>
  );
}

function HubSection({ title, path }: { title: string; path: string }) {
  const listing = useApi((signal) => folderAndChildren(path, signal), [path]);
  const t = assetsEn.hub;
  return (
    <section className="card" aria-label={title}>
      <div className="card-title">
        <h2>{title}</h2>
        {listing.data?.folder && (
          <Link className="button" to={browseHref(path)}>
            {t.openFolder}
          </Link>
        )}
      </div>
      {listing.error ? (
        <ErrorState error={listing.error} onRetry={listing.reload} />
      ) : !listing.data ? (
        <Loading />
      ) : listing.data.children.length === 0 ? (
        <EmptyState title={t.none(title.toLowerCase())} hint={t.noneHint} />
      ) : (
        <ul className="hub-list">
          {listing.data.children.map((node) => (
            <li key={node.id}>
              <Link className="node-link" to={nodeHref(node)}>
                <NodeIcon kind={node.kind} /> {node.name}
              </Link>
              {node.description && <span className="muted small"> — {node.description}</span>}
            </li>
          ))}
          {listing.data.count > SHOWN && (
            <li className="muted">
              <Link to={browseHref(path)}>{`+${(listing.data.count - SHOWN).toLocaleString("en")}`}</Link>
            </li>
          )}
        </ul>
      )}
    </section>
  );
}

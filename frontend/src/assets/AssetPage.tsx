// A model or dataset: which version is shown (a branch, tag or commit: ?ref=), that version's summary,
// and tabs for its history, its files, a diff between any two refs, branches and tags (merge), and
// the data flow around it. /assets/:id?ref=v1#files
import { useParams, useSearchParams } from "react-router-dom";
import { ApiError } from "../api";
import { Breadcrumbs, ErrorState, formatDate, Loading, NodeIcon } from "../components";
import { Tabs, useHashTab, useSetQuery } from "../components/Tabs";
import { useApi } from "../components/useApi";
import { DataFlow } from "../lineage";
import { formatBytes } from "../runs/format";
import { archiveUrl, getAsset, getVersion, listTags, MAIN, type Version } from "./api";
import { DiffTab } from "./DiffTab";
import { FilesAtRef } from "./FilesAtRef";
import { RefsTab } from "./RefsTab";
import { assetsEn } from "./strings";
import { VersionsTab } from "./VersionsTab";
import "../runs/runs.css";
import "./assets.css";

const TABS = ["versions", "files", "diff", "refs", "dataflow"] as const;

/** The version a ref names; `version: null` when `main` has no commits yet. */
async function versionAt(id: string, ref: string, signal: AbortSignal): Promise<{ version: Version | null }> {
  try {
    return { version: await getVersion(id, ref, signal) };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && ref === MAIN) return { version: null };
    throw e;
  }
}

export function AssetPage() {
  const { id = "" } = useParams();
  const [params] = useSearchParams();
  const setQuery = useSetQuery();
  const ref = params.get("ref") || MAIN;
  const [tab, select] = useHashTab(TABS);
  const asset = useApi((signal) => getAsset(id, signal), [id]);
  const tags = useApi((signal) => listTags(id, signal), [id]);
  const version = useApi((signal) => versionAt(id, ref, signal), [id, ref]);

  const openRef = (next: string) => {
    const p = new URLSearchParams(params);
    if (next === MAIN) p.delete("ref");
    else p.set("ref", next);
    setQuery(p);
  };
  const refsChanged = () => {
    asset.reload();
    tags.reload();
    version.reload(); // a merge or fast-forward moves the branch shown
  };

  const failed = asset.error ?? tags.error ?? version.error;
  if (failed) return <ErrorState error={failed} onRetry={() => (asset.reload(), tags.reload(), version.reload())} />;
  if (!asset.data || !tags.data || !version.data) return <Loading label={assetsEn.asset.loading} />;
  const node = asset.data.asset;
  const branches = asset.data.branches;
  const v = version.data.version;
  const named = [...branches.map((b) => b.name), ...tags.data.map((t) => t.name)];
  const parentPath = node.path.slice(0, node.path.lastIndexOf("/")) || "/";
  return (
    <div className="page asset-page">
      <Breadcrumbs path={parentPath} />
      <section className="card header-card" aria-labelledby="asset-name">
        <div className="card-title">
          <h1 id="asset-name">
            <NodeIcon kind={node.kind} /> {node.name}
          </h1>
          <div className="toolbar">
            <label className="inline-field">
              {assetsEn.asset.ref}
              <select value={named.includes(ref) ? ref : "__commit"} onChange={(e) => openRef(e.target.value)} data-testid="ref-select">
                {!named.includes(ref) && <option value="__commit">{ref.slice(0, 12)}</option>}
                <optgroup label={assetsEn.asset.branches}>
                  {branches.map((b) => (
                    <option key={b.name} value={b.name}>
                      {b.name}
                    </option>
                  ))}
                </optgroup>
                {tags.data.length > 0 && (
                  <optgroup label={assetsEn.asset.tags}>
                    {tags.data.map((t) => (
                      <option key={t.name} value={t.name}>
                        {t.name}
                      </option>
                    ))}
                  </optgroup>
                )}
              </select>
            </label>
            {v && (
              <a className="button" href={archiveUrl(node.id, ref)} download>
                {assetsEn.asset.download}
              </a>
            )}
          </div>
        </div>
        {v ? <VersionFacts version={v} /> : <p className="muted">{assetsEn.asset.noCommits}</p>}
        {node.description && <p className="description">{node.description}</p>}
      </section>
      <Tabs label={node.name} tabs={TABS} names={assetsEn.asset.tabs} tab={tab} onSelect={select}>
        {tab === "versions" && <VersionsTab key={v?.id ?? ""} assetId={node.id} at={ref} hasCommits={!!v} onOpen={openRef} />}
        {tab === "files" && (v ? <FilesAtRef assetId={node.id} at={v.id} refName={ref} /> : <p className="muted">{assetsEn.asset.noCommitsHint}</p>)}
        {tab === "diff" && <DiffTab assetId={node.id} names={named} />}
        {tab === "refs" && <RefsTab asset={node} branches={branches} tags={tags.data} at={ref} onChange={refsChanged} onOpen={openRef} />}
        {tab === "dataflow" && <DataFlow nodeKey={v ? `${node.id}:${v.id}` : node.id} />}
      </Tabs>
    </div>
  );
}

function VersionFacts({ version }: { version: Version }) {
  return (
    <dl className="facts" data-testid="version-facts">
      <dt>{assetsEn.versions.id}</dt>
      <dd className="mono">{version.id.slice(0, 12)}</dd>
      <dt>{assetsEn.versions.message}</dt>
      <dd>{version.message || "—"}</dd>
      <dt>{assetsEn.versions.author}</dt>
      <dd>{version.author ?? "—"}</dd>
      <dt>{assetsEn.versions.time}</dt>
      <dd>{formatDate(version.created_at)}</dd>
      <dt>{assetsEn.versions.files}</dt>
      <dd>
        {version.file_count.toLocaleString("en")} ({formatBytes(version.total_size)})
      </dd>
      <dt>{assetsEn.versions.tags}</dt>
      <dd>{version.tags.length ? version.tags.join(", ") : "—"}</dd>
    </dl>
  );
}

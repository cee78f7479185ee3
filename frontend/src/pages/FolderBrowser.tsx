// A folder: its header card (what it is, who changed it last, labels, description, actions) and its
// children in a virtualised table that fetches pages as they scroll into view.
import { useCallback, useEffect, useState } from "react";
import { Link, useLocation, useNavigate } from "react-router-dom";
import { listChildren, runStatuses, resolvePath, type Node } from "../api";
import {
  Breadcrumbs,
  browseHref,
  EmptyState,
  GetStarted,
  ErrorState,
  formatDate,
  Labels,
  Loading,
  Menu,
  NodeIcon,
  nodeHref,
  pathFromBrowse,
  StatusBadge,
  usePagedRows,
  useSession,
  VirtualTable,
  type Column,
  type Sort,
} from "../components";
import { en } from "../i18n/en";
import { NewMenu } from "./NewMenu";
import { useNodeActions, type OnDone } from "./NodeActions";

export function FolderBrowser() {
  const location = useLocation();
  const navigate = useNavigate();
  const { me } = useSession();
  const path = pathFromBrowse(location.pathname);
  const [node, setNode] = useState<Node | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    if (path === "/") return void navigate(browseHref(me.root.path), { replace: true });
    const controller = new AbortController();
    setError(null);
    resolvePath(path, controller.signal).then(setNode, (e: unknown) => !controller.signal.aborted && setError(e));
    return () => controller.abort();
  }, [path, version, navigate, me.root.path]);

  const onDone: OnDone = (change, changed, updated) => {
    if (node && changed.id === node.id && change !== "created" && change !== "shortcut") {
      if (change === "deleted") navigate(browseHref(node.path.slice(0, node.path.lastIndexOf("/"))));
      else if (updated && updated.path !== node.path) navigate(browseHref(updated.path));
      else setVersion((v) => v + 1);
    } else {
      setVersion((v) => v + 1);
    }
  };
  const actions = useNodeActions(onDone);

  if (error) return <ErrorState error={error} onRetry={() => setVersion((v) => v + 1)} />;
  if (!node || node.path !== path) return <Loading />;
  const canEdit = node.access === "edit" || node.access === "owner";
  return (
    <div className="page page-browser">
      <Breadcrumbs path={node.path} />
      <section className="card header-card" aria-labelledby="node-name">
        <div className="card-title">
          <h1 id="node-name">
            <NodeIcon kind={node.kind} /> {node.name}
          </h1>
          <div className="toolbar">
            {node.kind === "Folder" && canEdit && (
              <button type="button" className="primary" onClick={() => actions.newFolder(node)}>
                {en.browser.newFolder}
              </button>
            )}
            {node.kind === "Folder" && canEdit && <NewMenu folder={node} newFolder={() => actions.newFolder(node)} />}
            {nodeHref(node) !== browseHref(node.path) && (
              <Link className="button primary" to={nodeHref(node)}>
                {en.browser.open(node.kind)}
              </Link>
            )}
            <button type="button" onClick={() => actions.openShare(node)}>
              {en.browser.share}
            </button>
            <Link className="button" to={`/runs?folder=${node.id}`}>
              {en.browser.runs}
            </Link>
            <Menu label={en.common.actionsFor(node.name)} items={actions.items(node)} />
          </div>
        </div>
        <dl className="facts">
          <dt>{en.node.kind}</dt>
          <dd>{node.kind}</dd>
          <dt>{en.node.owner}</dt>
          <dd>
            {node.owner} <span className="muted">({en.node.access[node.access]})</span>
          </dd>
          <dt>{en.node.editor}</dt>
          <dd>{node.editor ?? en.common.none}</dd>
          <dt>{en.node.modified}</dt>
          <dd>{formatDate(node.modified_at)}</dd>
          <dt>{en.node.path}</dt>
          <dd className="mono">{node.path}</dd>
          <dt>{en.node.id}</dt>
          <dd className="mono" data-testid="node-id">
            {node.id}
          </dd>
          <dt>{en.node.labels}</dt>
          <dd>{node.labels.length ? <Labels labels={node.labels} /> : en.common.none}</dd>
        </dl>
        <p className={node.description ? "description" : "description muted"}>
          {node.description || en.node.noDescription}
        </p>
      </section>
      {node.kind === "Folder" && <Children key={`${node.id}:${version}`} folder={node} actions={actions} />}
      {actions.dialog}
    </div>
  );
}

const DEFAULT_SORT: Sort = { key: "name", descending: false };

function Children({ folder, actions }: { folder: Node; actions: ReturnType<typeof useNodeActions> }) {
  const [sort, setSort] = useState<Sort>(DEFAULT_SORT);
  const [statuses, setStatuses] = useState<Map<string, string>>(new Map());
  const ordering = `${sort.descending ? "-" : ""}${sort.key}`;

  const onPage = useCallback((rows: Node[]) => {
    const runs = rows.filter((r) => r.kind === "Run").map((r) => r.id);
    if (runs.length === 0) return;
    runStatuses(runs).then(
      (found) => setStatuses((s) => new Map([...s, ...found])),
      () => undefined, // the status column stays empty; the rows themselves are there
    );
  }, []);
  const rows = usePagedRows<Node>(
    (page, pageSize, signal) =>
      listChildren(folder.id, { ordering, page, pageSize }, signal),
    `${folder.id}:${ordering}`,
    200,
    onPage,
  );

  const columns: Column<Node>[] = [
    {
      id: "name",
      header: en.node.name,
      width: "minmax(14rem, 3fr)",
      sort: "name",
      render: (n) => (
        <Link to={nodeHref(n)} className="node-link" title={n.kind === "Shortcut" ? en.node.shortcutTo(n.target?.path ?? "") : n.path}>
          <NodeIcon kind={n.kind} /> {n.name}
          {n.kind === "Shortcut" && !n.target && <span className="muted"> ({en.node.danglingShortcut})</span>}
        </Link>
      ),
    },
    { id: "kind", header: en.node.kind, width: "7rem", sort: "kind", render: (n) => n.kind },
    { id: "labels", header: en.node.labels, width: "minmax(8rem, 2fr)", render: (n) => <Labels labels={n.labels} /> },
    { id: "status", header: en.node.status, width: "7rem", render: (n) => <StatusBadge status={statuses.get(n.id)} /> },
    { id: "modified", header: en.node.modified, width: "12.5rem", sort: "modified", render: (n) => formatDate(n.modified_at) },
    {
      id: "actions",
      header: en.common.actions,
      width: "5.5rem",
      render: (n) => <Menu label={en.common.actionsFor(n.name)} items={actions.items(n)} />,
    },
  ];

  if (rows.error && rows.count === null) return <ErrorState error={rows.error} onRetry={rows.reload} />;
  if (rows.count === null) return <Loading />;
  if (rows.count === 0)
    return (
      <EmptyState title={en.browser.emptyFolder} hint={en.browser.emptyFolderHint}>
        <GetStarted />
      </EmptyState>
    );
  return (
    <section className="children" aria-label={en.browser.children}>
      <p className="muted count" data-testid="child-count">
        {en.common.rows(rows.count)}
      </p>
      <VirtualTable
        label={en.browser.children}
        columns={columns}
        count={rows.count}
        rowAt={rows.rowAt}
        rowKey={(n) => n.id}
        onRange={rows.onRange}
        sort={sort}
        onSort={(key) => setSort((s) => ({ key, descending: s.key === key ? !s.descending : false }))}
      />
    </section>
  );
}

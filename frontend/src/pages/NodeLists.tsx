// The lists beside the tree: nodes shared with me, nodes shared with everyone, and my trash (with
// restore and delete forever). One paged, virtualised table serves all three.
import { useState, type ReactNode } from "react";
import { Link } from "react-router-dom";
import { deleteForever, listNodes, restoreNode, type Node, type NodeListName } from "../api";
import {
  ConfirmDialog,
  EmptyState,
  ErrorState,
  formatDate,
  Labels,
  Loading,
  NodeIcon,
  nodeHref,
  usePagedRows,
  useSession,
  VirtualTable,
  type Column,
} from "../components";
import { en } from "../i18n/en";

interface NodeListProps {
  list: NodeListName;
  title: string;
  empty: string;
  hint?: string;
  extraColumns?: (reload: () => void, open: (dialog: ReactNode) => void) => Column<Node>[];
  /** Whether names link to the node (not in the trash, where nodes cannot be opened). */
  links?: boolean;
}

function NodeList({ list, title, empty, hint, extraColumns, links = true }: NodeListProps) {
  const [dialog, setDialog] = useState<ReactNode>(null);
  const [version, setVersion] = useState(0);
  const rows = usePagedRows<Node>((page, size, signal) => listNodes(list, page, size, signal), `${list}:${version}`);
  const reload = () => setVersion((v) => v + 1);
  const columns: Column<Node>[] = [
    {
      id: "name",
      header: en.node.name,
      width: "minmax(12rem, 2fr)",
      render: (n) =>
        links ? (
          <Link to={nodeHref(n)} className="node-link">
            <NodeIcon kind={n.kind} /> {n.name}
          </Link>
        ) : (
          <span>
            <NodeIcon kind={n.kind} /> {n.name}
          </span>
        ),
    },
    { id: "kind", header: en.node.kind, width: "7rem", render: (n) => n.kind },
    { id: "path", header: en.node.path, width: "minmax(12rem, 3fr)", render: (n) => <span className="mono">{n.path}</span> },
    { id: "labels", header: en.node.labels, width: "minmax(6rem, 1fr)", render: (n) => <Labels labels={n.labels} /> },
    ...(extraColumns?.(reload, setDialog) ?? [
      { id: "modified", header: en.node.modified, width: "12.5rem", render: (n: Node) => formatDate(n.modified_at) },
    ]),
  ];

  let body: ReactNode;
  if (rows.error && rows.count === null) body = <ErrorState error={rows.error} onRetry={rows.reload} />;
  else if (rows.count === null) body = <Loading />;
  else if (rows.count === 0) body = <EmptyState title={empty} hint={hint} />;
  else
    body = (
      <VirtualTable
        label={title}
        columns={columns}
        count={rows.count}
        rowAt={rows.rowAt}
        rowKey={(n) => n.id}
        onRange={rows.onRange}
      />
    );
  return (
    <div className="page page-list">
      <h1>{title}</h1>
      {hint && rows.count ? <p className="muted">{hint}</p> : null}
      {body}
      {dialog}
    </div>
  );
}

/** Who shared each node (only its owner can) and at which level, which is what the reader can do there. */
export function SharedWithMe() {
  return (
    <NodeList
      list="shared-with-me"
      title={en.lists.sharedTitle}
      empty={en.lists.sharedEmpty}
      extraColumns={() => [
        { id: "shared-by", header: en.lists.sharedBy, width: "8rem", render: (n) => n.owner },
        {
          id: "level",
          header: en.lists.yourAccess,
          width: "8rem",
          render: (n) => <span data-testid="shared-level">{en.node.access[n.access]}</span>,
        },
        { id: "modified", header: en.node.modified, width: "12.5rem", render: (n) => formatDate(n.modified_at) },
      ]}
    />
  );
}

export function Public() {
  return <NodeList list="public" title={en.lists.publicTitle} empty={en.lists.publicEmpty} />;
}

export function Trash() {
  const { treeChanged } = useSession();
  const [notice, setNotice] = useState("");
  return (
    <>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <NodeList
        list="trash"
        title={en.lists.trashTitle}
        empty={en.lists.trashEmpty}
        hint={en.lists.trashHint}
        links={false}
        extraColumns={(reload, open) => [
          { id: "deleted", header: en.lists.deletedAt, width: "12.5rem", render: (n) => formatDate(n.deleted_at) },
          {
            id: "actions",
            header: en.common.actions,
            width: "15rem",
            render: (n) => (
              <span className="row-actions">
                <button
                  type="button"
                  onClick={async () => {
                    try {
                      const restored = await restoreNode(n.id);
                      setNotice(en.lists.restored(restored.path));
                      treeChanged();
                      reload();
                    } catch (error) {
                      setNotice(error instanceof Error ? error.message : String(error));
                    }
                  }}
                >
                  {en.lists.restore}
                </button>
                <button
                  type="button"
                  className="danger"
                  onClick={() =>
                    open(
                      <ConfirmDialog
                        title={en.lists.deleteForeverTitle(n.name)}
                        body={en.lists.deleteForeverBody}
                        confirm={en.lists.deleteForever}
                        danger
                        onConfirm={async () => (await deleteForever(n.id), reload())}
                        onClose={() => open(null)}
                      />,
                    )
                  }
                >
                  {en.lists.deleteForever}
                </button>
              </span>
            ),
          },
        ]}
      />
    </>
  );
}

// The actions on a node (rename, labels, move, shortcut, share, delete) as menu items, and the dialog
// each opens. The page says what to do afterwards through `onDone` (reload, or go where the node went).
import { useState, type ReactNode } from "react";
import { createNode, moveNode, trashNode, updateNode, type Node } from "../api";
import { ConfirmDialog, FolderPicker, FormDialog, parseLabels, useSession, type MenuItem } from "../components";
import { en } from "../i18n/en";
import { ShareDialog } from "./ShareDialog";

export type Change = "created" | "renamed" | "relabelled" | "moved" | "shortcut" | "deleted";

/** After an action: what happened, to which node, and the node as the server now has it (not after delete). */
export type OnDone = (change: Change, node: Node, updated?: Node) => void;

type Open = (dialog: ReactNode) => void;

export function useNodeActions(onDone: OnDone) {
  const { treeChanged } = useSession();
  const [dialog, setDialog] = useState<ReactNode>(null);
  const close = () => setDialog(null);
  const done: OnDone = (change, node, updated) => {
    treeChanged();
    onDone(change, node, updated);
  };
  const open: Open = setDialog;

  /** The actions this user may take on `node`: the others are left out rather than greyed out, so a
   * viewer's menu holds what a viewer can do (see who it is shared with, make a shortcut to it). */
  function items(node: Node): MenuItem[] {
    const canEdit = node.access === "edit" || node.access === "owner";
    const isRoot = node.parent === null;
    const all: MenuItem[] = [
      { label: en.browser.share, onSelect: () => open(<ShareDialog node={node} onClose={close} />) },
      { label: en.browser.rename, disabled: !canEdit || isRoot, onSelect: () => open(<RenameDialog node={node} onDone={done} onClose={close} />) },
      { label: en.browser.relabel, disabled: !canEdit, onSelect: () => open(<RelabelDialog node={node} onDone={done} onClose={close} />) },
      { label: en.browser.move, disabled: !canEdit || isRoot, onSelect: () => open(<MoveDialog node={node} onDone={done} onClose={close} />) },
      { label: en.browser.shortcut, onSelect: () => open(<ShortcutDialog node={node} onDone={done} onClose={close} />) },
      {
        label: en.browser.delete,
        danger: true,
        disabled: !canEdit || isRoot,
        onSelect: () =>
          open(
            <ConfirmDialog
              title={en.browser.deleteTitle(node.name)}
              body={en.browser.deleteBody}
              confirm={en.browser.delete}
              danger
              onConfirm={async () => (await trashNode(node.id), done("deleted", node))}
              onClose={close}
            />,
          ),
      },
    ];
    return all.filter((item) => !item.disabled);
  }

  const newFolder = (parent: Node) => open(<NewFolderDialog parent={parent} onDone={done} onClose={close} />);
  return { items, newFolder, openShare: (node: Node) => open(<ShareDialog node={node} onClose={close} />), dialog };
}

interface ActionProps {
  node: Node;
  onDone: OnDone;
  onClose: () => void;
}

function NewFolderDialog({ parent, onDone, onClose }: Omit<ActionProps, "node"> & { parent: Node }) {
  const [name, setName] = useState("");
  return (
    <FormDialog
      title={en.browser.newFolderTitle}
      submit={en.common.create}
      onClose={onClose}
      onSubmit={async () => onDone("created", parent, await createNode({ parent: parent.id, name }))}
    >
      <label>
        {en.node.name}
        <input value={name} required autoFocus onChange={(e) => setName(e.target.value)} />
      </label>
    </FormDialog>
  );
}

function RenameDialog({ node, onDone, onClose }: ActionProps) {
  const [name, setName] = useState(node.name);
  return (
    <FormDialog
      title={en.browser.renameTitle(node.name)}
      submit={en.common.save}
      onClose={onClose}
      onSubmit={async () => onDone("renamed", node, await updateNode(node.id, { name }))}
    >
      <label>
        {en.node.name}
        <input value={name} required autoFocus onChange={(e) => setName(e.target.value)} />
      </label>
    </FormDialog>
  );
}

function RelabelDialog({ node, onDone, onClose }: ActionProps) {
  const [labels, setLabels] = useState(node.labels.join(", "));
  const [description, setDescription] = useState(node.description);
  return (
    <FormDialog
      title={en.browser.relabelTitle(node.name)}
      submit={en.common.save}
      onClose={onClose}
      onSubmit={async () =>
        onDone("relabelled", node, await updateNode(node.id, { labels: parseLabels(labels), description }))
      }
    >
      <label>
        {en.node.labels}
        <input value={labels} autoFocus onChange={(e) => setLabels(e.target.value)} aria-describedby="labels-hint" />
      </label>
      <p id="labels-hint" className="muted">
        {en.browser.labelsHint}
      </p>
      <label>
        {en.node.description}
        <textarea value={description} rows={4} onChange={(e) => setDescription(e.target.value)} />
      </label>
    </FormDialog>
  );
}

const parentPath = (node: Node) => node.path.slice(0, node.path.lastIndexOf("/")) || node.path;

function MoveDialog({ node, onDone, onClose }: ActionProps) {
  return (
    <FolderPicker
      title={en.browser.moveTitle(node.name)}
      submit={en.browser.moveHere}
      startPath={parentPath(node)}
      exclude={node.id}
      onClose={onClose}
      onPick={async (folder) => onDone("moved", node, await moveNode(node.id, folder.id))}
    />
  );
}

function ShortcutDialog({ node, onDone, onClose }: ActionProps) {
  return (
    <FolderPicker
      title={en.browser.shortcutTitle(node.name)}
      submit={en.browser.shortcutHere}
      startPath={parentPath(node)}
      onClose={onClose}
      onPick={async (folder) =>
        onDone(
          "shortcut",
          node,
          await createNode({ parent: folder.id, name: en.browser.shortcutName(node.name), kind: "Shortcut", target: node.id }),
        )
      }
    />
  );
}

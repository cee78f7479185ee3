// A folder tree whose branches are fetched when opened. The navigation shows it as links; the folder
// picker shows it as choices. Arrow keys move between items (Right opens, Left closes).
import { useEffect, useState, type KeyboardEvent, type ReactNode } from "react";
import { listFolders, type Node } from "../api";
import { en } from "../i18n/en";
import { useSession } from "./session";

/** A branch shows this many sub-folders at most; the folder browser lists them all. */
const BRANCH_LIMIT = 200;

export interface TreeFolder {
  id: string;
  name: string;
  path: string;
}

interface FolderTreeProps {
  root: TreeFolder;
  label: string;
  /** How a folder's name is drawn: a link, a button… */
  renderItem: (folder: TreeFolder) => ReactNode;
  /** Folders on the way to this path start open. */
  openPath?: string;
  /** A folder that may not be chosen, with everything below it (e.g. the folder being moved). */
  exclude?: string;
}

export function FolderTree({ root, label, renderItem, openPath, exclude }: FolderTreeProps) {
  return (
    <ul className="tree" role="tree" aria-label={label} onKeyDown={moveFocus}>
      <TreeItem folder={root} renderItem={renderItem} openPath={openPath} exclude={exclude} depth={1} />
    </ul>
  );
}

function isOnPath(folder: TreeFolder, openPath: string | undefined): boolean {
  return !!openPath && (openPath === folder.path || openPath.startsWith(`${folder.path}/`));
}

interface TreeItemProps extends Omit<FolderTreeProps, "root" | "label"> {
  folder: TreeFolder;
  depth: number;
}

function TreeItem({ folder, renderItem, openPath, exclude, depth }: TreeItemProps) {
  const { treeVersion } = useSession();
  const [open, setOpen] = useState(() => depth === 1 || isOnPath(folder, openPath));
  const [children, setChildren] = useState<Node[] | null>(null);
  const [total, setTotal] = useState(0);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    if (isOnPath(folder, openPath) && openPath !== folder.path) setOpen(true);
  }, [openPath, folder]);

  useEffect(() => {
    if (!open) return;
    const controller = new AbortController();
    listFolders(folder.id, BRANCH_LIMIT, controller.signal)
      .then((page) => (setChildren(page.results), setTotal(page.count), setFailed(false)))
      .catch(() => !controller.signal.aborted && setFailed(true));
    return () => controller.abort();
  }, [open, folder.id, treeVersion]);

  const shown = children?.filter((c) => c.id !== exclude);
  const leaf = children !== null && shown?.length === 0;
  return (
    <li role="treeitem" aria-expanded={leaf ? undefined : open} aria-level={depth}>
      <div className="tree-row" style={{ paddingLeft: `${(depth - 1) * 0.9}rem` }}>
        <button
          type="button"
          className="tree-toggle"
          tabIndex={-1}
          aria-label={open ? en.nav.collapse(folder.name) : en.nav.expand(folder.name)}
          onClick={() => setOpen(!open)}
          style={{ visibility: leaf ? "hidden" : "visible" }}
          data-toggle
        >
          {open ? "▾" : "▸"}
        </button>
        {renderItem(folder)}
      </div>
      {open && failed && <p className="muted tree-note">{en.app.retry}</p>}
      {open && shown && shown.length > 0 && (
        <ul role="group">
          {shown.map((child) => (
            <TreeItem
              key={child.id}
              folder={child}
              renderItem={renderItem}
              openPath={openPath}
              exclude={exclude}
              depth={depth + 1}
            />
          ))}
        </ul>
      )}
      {open && children && total > children.length && (
        <p className="muted tree-note">{en.nav.more(total - children.length)}</p>
      )}
    </li>
  );
}

/** Up/Down move between the visible items' links or buttons; Right/Left open and close a branch. */
function moveFocus(event: KeyboardEvent<HTMLUListElement>) {
  const items = [...event.currentTarget.querySelectorAll<HTMLElement>(".tree-row > :not([data-toggle])")];
  const index = items.indexOf(document.activeElement as HTMLElement);
  if (index < 0) return;
  const row = items[index].parentElement!;
  const item = row.parentElement!;
  const toggle = row.querySelector<HTMLButtonElement>("[data-toggle]")!;
  const next: Record<string, () => void> = {
    ArrowDown: () => items[index + 1]?.focus(),
    ArrowUp: () => items[index - 1]?.focus(),
    ArrowRight: () => item.getAttribute("aria-expanded") === "false" && toggle.click(),
    ArrowLeft: () => item.getAttribute("aria-expanded") === "true" && toggle.click(),
  };
  if (next[event.key]) {
    event.preventDefault();
    next[event.key]();
  }
}

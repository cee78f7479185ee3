// Choose a destination folder in your own tree (for move and shortcut).
import { useState } from "react";
import { en } from "../i18n/en";
import { FormDialog } from "./Dialog";
import { FolderTree, type TreeFolder } from "./FolderTree";
import { useSession } from "./session";

interface FolderPickerProps {
  title: string;
  submit: string;
  /** Where the tree starts open. */
  startPath?: string;
  exclude?: string;
  onPick: (folder: TreeFolder) => Promise<unknown>;
  onClose: () => void;
}

export function FolderPicker({ title, submit, startPath, exclude, onPick, onClose }: FolderPickerProps) {
  const { me } = useSession();
  const [chosen, setChosen] = useState<TreeFolder | null>(null);
  const root = { id: me.root.id, name: me.username, path: me.root.path };
  return (
    <FormDialog
      title={title}
      submit={submit}
      disabled={!chosen}
      onSubmit={() => onPick(chosen!)}
      onClose={onClose}
    >
      <div className="picker">
        <FolderTree
          root={root}
          label={en.picker.label}
          openPath={startPath}
          exclude={exclude}
          renderItem={(folder) => (
            <button
              type="button"
              className={chosen?.id === folder.id ? "tree-item chosen" : "tree-item"}
              aria-pressed={chosen?.id === folder.id}
              onClick={() => setChosen(folder)}
            >
              {folder.name}
            </button>
          )}
        />
      </div>
      <p className="muted" aria-live="polite">
        {chosen ? en.picker.chosen(chosen.path) : en.picker.choose}
      </p>
    </FormDialog>
  );
}

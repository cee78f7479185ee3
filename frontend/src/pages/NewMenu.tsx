// The folder browser's "New" menu: every kind a user may create in a folder from the portal — a
// folder, an artifact (files uploaded from the browser), a model, a dataset, a live AutoTune search.
// Runs are recorded by the SDK or `em run`, so the menu says so instead of making an empty one.
import { useState, type ReactNode } from "react";
import { useNavigate } from "react-router-dom";
import type { Node } from "../api";
import { NewArtifactDialog, NewAssetDialog } from "../assets";
import { NewSearchDialog } from "../autotune";
import { Menu, nodeHref, useSession, type MenuItem } from "../components";
import { en } from "../i18n/en";

export function NewMenu({ folder, newFolder }: { folder: Node; newFolder: () => void }) {
  const navigate = useNavigate();
  const { treeChanged } = useSession();
  const [dialog, setDialog] = useState<ReactNode>(null);
  const close = () => setDialog(null);
  const created = (node: Node) => {
    treeChanged();
    navigate(nodeHref(node));
  };
  const items: MenuItem[] = [
    { label: en.newMenu.folder, onSelect: newFolder },
    { label: en.newMenu.artifact, onSelect: () => setDialog(<NewArtifactDialog parent={folder} onCreated={created} onClose={close} />) },
    { label: en.newMenu.model, onSelect: () => setDialog(<NewAssetDialog kind="Model" parent={folder} onCreated={created} onClose={close} />) },
    { label: en.newMenu.dataset, onSelect: () => setDialog(<NewAssetDialog kind="Dataset" parent={folder} onCreated={created} onClose={close} />) },
    { label: en.newMenu.autotune, onSelect: () => setDialog(<NewSearchDialog parent={folder} onCreated={created} onClose={close} />) },
    { label: en.newMenu.run, disabled: true, onSelect: () => undefined },
  ];
  return (
    <>
      <Menu label={en.newMenu.label} text={en.newMenu.text} items={items} />
      {dialog}
    </>
  );
}

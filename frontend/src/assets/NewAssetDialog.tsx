// A new model or dataset in a folder (or, with no folder, under /<you>/t9k-assethub/<kind>/).
import { useState } from "react";
import type { Node } from "../api";
import { FormDialog } from "../components";
import { en } from "../i18n/en";
import { createAsset } from "./api";
import { assetsEn } from "./strings";

interface Props {
  kind: "Model" | "Dataset";
  parent?: Node;
  onCreated: (asset: Node) => void;
  onClose: () => void;
}

export function NewAssetDialog({ kind, parent, onCreated, onClose }: Props) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  return (
    <FormDialog
      title={kind === "Model" ? assetsEn.hub.newModel : assetsEn.hub.newDataset}
      submit={en.common.create}
      onClose={onClose}
      onSubmit={async () => {
        const made = await createAsset({ kind, name, parent: parent?.id, description: description || undefined });
        onCreated(made.asset);
      }}
    >
      <label>
        {en.node.name}
        <input value={name} required autoFocus onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        {en.node.description}
        <textarea value={description} rows={3} onChange={(e) => setDescription(e.target.value)} />
      </label>
    </FormDialog>
  );
}

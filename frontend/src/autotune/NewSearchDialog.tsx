// A new live AutoTune search in a folder: its name and objective; trials come from the SDK or the
// Optuna callback through the API while it runs.
import { useState } from "react";
import { getNode, type Node } from "../api";
import { FormDialog } from "../components";
import { en } from "../i18n/en";
import { createSearch } from "./api";
import { autotuneEn as t } from "./strings";

export function NewSearchDialog({ parent, onCreated, onClose }: { parent: Node; onCreated: (node: Node) => void; onClose: () => void }) {
  const [name, setName] = useState("");
  const [metric, setMetric] = useState("");
  const [goal, setGoal] = useState("maximize");
  return (
    <FormDialog
      title={t.newTitle}
      submit={en.common.create}
      onClose={onClose}
      onSubmit={async () => {
        const made = await createSearch(parent.id, name, { objective: { metric, goal }, status: "RUNNING" });
        onCreated(await getNode(made.id));
      }}
    >
      <p className="muted">{t.newHint}</p>
      <label>
        {t.name}
        <input value={name} required autoFocus onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        {t.metric}
        <input value={metric} required onChange={(e) => setMetric(e.target.value)} />
      </label>
      <label>
        {t.objective}
        <select value={goal} onChange={(e) => setGoal(e.target.value)}>
          <option value="maximize">{t.goal.maximize}</option>
          <option value="minimize">{t.goal.minimize}</option>
        </select>
      </label>
    </FormDialog>
  );
}

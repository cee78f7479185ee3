// The data-flow graph alone in the window: /lineage?node=<id or asset:version>&depth=N.
import { useNavigate, useSearchParams } from "react-router-dom";
import { EmptyState } from "../components";
import { MAX_DEPTH } from "./api";
import { DataFlow, DEFAULT_DEPTH } from "./DataFlow";
import { lineageEn } from "./strings";

export function LineagePage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const node = params.get("node") ?? "";
  const asked = Number(params.get("depth"));
  const depth = Number.isInteger(asked) && asked >= 0 && asked <= MAX_DEPTH ? asked : DEFAULT_DEPTH;
  return (
    <div className="lineage-page">
      <header className="page-head">
        <button type="button" onClick={() => navigate(-1)}>
          {lineageEn.back}
        </button>
        <h1>{lineageEn.title}</h1>
      </header>
      {node ? <DataFlow nodeKey={node} depth={depth} fullScreen /> : <EmptyState title={lineageEn.empty} />}
    </div>
  );
}

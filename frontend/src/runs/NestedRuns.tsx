// The runs nested in a run (MLflow's child runs, `nested=True`): they live inside the parent run's node,
// so a search below the run finds them; only its direct children are listed here, each a link to its page.
import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { searchRuns } from "./api";
import { formatDuration, formatShortTime } from "./format";
import { StatusBadge } from "./StatusBadge";
import { runsEn } from "./strings";
import type { RunRow } from "./types";

const MOST = 200;

export function NestedRuns({ runId }: { runId: string }) {
  const [children, setChildren] = useState<RunRow[]>([]);

  useEffect(() => {
    const controller = new AbortController();
    searchRuns({ folder: runId, orderBy: "attributes.start_time ASC", pageSize: MOST }, controller.signal)
      .then((page) => setChildren(page.results.filter((row) => row.parent_run === runId)))
      .catch(() => setChildren([])); // the list is an extra: the run page stands without it
    return () => controller.abort();
  }, [runId]);

  if (!children.length) return null;
  const t = runsEn.run;
  return (
    <section className="nested-runs" aria-labelledby="nested-runs-h">
      <h2 id="nested-runs-h">
        {t.nestedRuns} ({children.length})
      </h2>
      <ul>
        {children.map((row) => (
          <li key={row.id}>
            <Link to={`/runs/${row.id}`}>{row.name}</Link> <StatusBadge status={row.run.status} />{" "}
            <span className="muted">
              {formatShortTime(row.run.started_at)} · {formatDuration(row.run.duration)}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

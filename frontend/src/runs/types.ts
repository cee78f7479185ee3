// Shapes of the run endpoints' JSON (docs/runs-api.md), as the run screens read them.
import type { Node, RunStatus } from "../api";

export interface RunSummary {
  status: RunStatus;
  started_at: string | null;
  ended_at: string | null;
  duration: number | null;
  source_type: string;
  source_name: string;
  alternative_name: string; // the bundle folder's name: tells runs of the same name apart
}

/** A search hit: the node, its run summary, and params/metrics(latest)/tags by key. */
export interface RunRow extends Node {
  run: RunSummary;
  params: Record<string, string>;
  metrics: Record<string, number | null>;
  tags: Record<string, string>;
  parent_run: string | null; // the run this one is nested in (MLflow's parentRunId), or null
}

export interface MetricSummary {
  count: number;
  min: number | null;
  max: number | null;
  latest: number | null;
  latest_step: number | null;
  latest_timestamp: string | null;
}

export interface LineageRef {
  id: string;
  name: string;
  kind: string;
  path: string;
  ref: string;
}

/** `GET /api/v1/runs/<id>`: the row with full metric summaries and what the run page shows. */
export interface RunDetail extends Omit<RunRow, "metrics"> {
  hyperparameters: unknown;
  platform: unknown;
  git: unknown;
  command: string;
  notes: string;
  metrics: Record<string, MetricSummary>;
  lineage: Record<string, LineageRef[]>;
  index_state: "pending" | "indexed" | "failed";
  index_errors: { file: string; message: string }[];
}

/** A metric's history; `min`/`max` are per-bucket bands when the server downsampled. */
export interface History {
  key: string;
  run?: string;
  count: number;
  downsampled: boolean;
  step: number[];
  epoch: (number | null)[];
  timestamp: number[];
  value: (number | null)[];
  min: (number | null)[] | null;
  max: (number | null)[] | null;
}

export interface CompareRow {
  key: string;
  values: unknown[];
  all_equal: boolean;
}

export interface CompareResult {
  runs: RunRow[];
  attributes: CompareRow[];
  params: CompareRow[];
  metrics: CompareRow[];
}

export interface LogPage {
  lines: [number, string][];
  total: number;
  next_offset: number | null;
}

export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
  md5: string;
  mtime: string | null;
}

/** The filter API's 400 detail (`invalid_filter` / `invalid_order_by`). */
export interface FilterErrorDetail {
  position: number;
  line: number;
  column: number;
  token: string;
  expected?: string[];
}

/** Which x a history is read against: the step or the wall-clock time (epochs ride along either way). */
export type XFetch = "step" | "timestamp";

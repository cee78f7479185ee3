// The AutoTune endpoints (docs/autotune.md), over the portal's one API client.
import { api, type Page } from "../api";

export type TrialStatus = "Waiting" | "Running" | "Succeeded" | "Pruned" | "Failed" | "Canceled";
export type Goal = "maximize" | "minimize";

export interface Trial {
  id: number;
  status: TrialStatus;
  params: Record<string, unknown>;
  value: number | null;
  started_at: string | null;
  ended_at: string | null;
  duration_seconds: number | null;
  points: number;
}

export interface TrialDetail extends Trial {
  steps: number[];
  values: (number | null)[];
}

export interface Search {
  id: string;
  profile: {
    objective: { metric: string; goal: Goal };
    search_space: unknown;
    tuner: unknown;
    trainer: unknown;
    max_trial_num: number | null;
    trial_concurrency: number | null;
    max_exec_seconds: number | null;
    status: string;
    started_at: string | null;
    ended_at: string | null;
  };
  live: boolean;
  index_state: "pending" | "indexed" | "failed";
  index_errors: { file: string; message: string }[];
  progress: {
    trials: number;
    by_status: Record<string, number>;
    max_trial_num: number | null;
    elapsed_seconds: number | null;
    max_exec_seconds: number | null;
  };
  best: Trial | null;
}

export interface Charts {
  objective: { metric: string; goal: Goal };
  values: { trial: number[]; value: number[]; best_so_far: number[] };
  parallel: { trial: number[]; status: string[]; params: Record<string, unknown[]>; value: (number | null)[] };
  durations: { trial: number[]; status: string[]; seconds: (number | null)[] };
}

const base = (id: string) => `/autotune/${id}`;

export const getSearch = (id: string, signal?: AbortSignal) => api<Search>(base(id), { signal });

export const listTrials = (
  id: string,
  q: { filter: string; orderBy: string; page: number; pageSize: number },
  signal?: AbortSignal,
) =>
  api<Page<Trial>>(`${base(id)}/trials`, {
    query: { filter: q.filter, order_by: q.orderBy, page: q.page, page_size: q.pageSize },
    signal,
  });

export const getTrial = (id: string, number: number, signal?: AbortSignal) =>
  api<TrialDetail>(`${base(id)}/trials/${number}`, { signal });

export const getCharts = (id: string, signal?: AbortSignal) => api<Charts>(`${base(id)}/charts`, { signal });

export const promoteTrial = (id: string, number: number, name?: string) =>
  api<{ id: string; name: string }>(`${base(id)}/trials/${number}/promote`, { method: "POST", body: name ? { name } : {} });

export const createSearch = (parent: string, name: string, profile: Record<string, unknown>) =>
  api<{ id: string }>("/autotune", { method: "POST", body: { parent, name, profile } });


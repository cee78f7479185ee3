// Shapes of the REST API's JSON (see /api/schema/), as the portal reads them.

export type Kind = "Folder" | "Shortcut" | "Run" | "Artifact" | "AutoTune" | "Model" | "Dataset";
export type AccessLevel = "none" | "view" | "edit" | "owner";
export type RunStatus = "Running" | "Complete" | "Error" | "Killed";

export interface NodeTarget {
  id: string;
  name: string;
  kind: Kind;
  path: string;
}

export interface Node {
  id: string;
  name: string;
  kind: Kind;
  storage_type: number;
  path: string;
  parent: string | null;
  owner: string;
  access: AccessLevel;
  labels: string[];
  description: string;
  extra: unknown;
  target: NodeTarget | null;
  created_at: string;
  modified_at: string;
  created_by: string | null;
  editor: string | null;
  deleted_at: string | null;
}

export type PrincipalType = "user" | "group" | "public";
export type ShareLevel = "view" | "edit";

export interface Share {
  type: PrincipalType;
  name: string | null;
  level: ShareLevel;
  inherited_from: { id: string; path: string } | null;
}

export interface Shares {
  owner: string;
  summary: string;
  shares: Share[];
}

export interface Me {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  is_staff: boolean;
  root: { id: string; path: string };
  groups: string[];
}

export type KeyScope = "read" | "write";

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scope: KeyScope;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface CreatedApiKey extends ApiKey {
  key: string;
}

export interface Group {
  id: number;
  name: string;
  members: string[];
  managers: string[];
}

/** The part of a run search hit the tree screens use (the runs pages read the rest). */
export interface RunSummaryRow {
  id: string;
  run: { status: RunStatus };
}

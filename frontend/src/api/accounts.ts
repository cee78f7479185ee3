// The signed-in user, API keys and groups.
import { api } from "./client";
import type { ApiKey, CreatedApiKey, Group, KeyScope, Me } from "./types";

export const getMe = (signal?: AbortSignal) => api<Me>("/me", { signal });

export const listKeys = (signal?: AbortSignal) => api<ApiKey[]>("/keys", { signal });

export const createKey = (name: string, scope: KeyScope) =>
  api<CreatedApiKey>("/keys", { method: "POST", body: { name, scope } });

export const revokeKey = (id: string) => api<void>(`/keys/${id}`, { method: "DELETE" });

export const listGroups = (signal?: AbortSignal) => api<Group[]>("/groups", { signal });

export type GroupRole = "members" | "managers";

export const addToGroup = (groupId: number, role: GroupRole, username: string) =>
  api<Group>(`/groups/${groupId}/${role}`, { method: "POST", body: { username } });

export const removeFromGroup = (groupId: number, role: GroupRole, username: string) =>
  api<void>(`/groups/${groupId}/${role}/${encodeURIComponent(username)}`, { method: "DELETE" });

export const createGroup = (name: string) => api<Group>("/groups", { method: "POST", body: { name } });

"""Typed calls of the server's REST endpoints, shared by the CLI and the SDK.

Each function is one endpoint (or one paginated listing) and returns the server's JSON as a TypedDict
mirroring `em/api/serializers.py` and `accounts/api/views.py`, so that callers get names checked by mypy
without a model layer to keep in sync. Paths are the human `/alice/a/b` kind; `absolute` resolves the
relative ones against the caller's root, as a shell resolves against the working directory.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any, TypedDict, cast

from em.client.errors import NotFound
from em.client.http import Client

FOLDER = "Folder"
SHORTCUT = "Shortcut"


class NodeRef(TypedDict):
    id: str
    path: str


class Me(TypedDict):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_staff: bool
    root: NodeRef
    groups: list[str]


class Target(TypedDict):
    id: str
    name: str
    kind: str
    path: str


class Node(TypedDict):
    id: str
    name: str
    kind: str
    storage_type: int
    path: str
    parent: str | None
    owner: str
    access: str  # view, edit or owner: what the caller may do here
    labels: list[str]
    description: str
    extra: dict[str, Any]
    target: Target | None  # a shortcut's target; None when dangling or out of the caller's reach
    created_at: str
    modified_at: str
    created_by: str | None
    editor: str | None
    deleted_at: str | None


class Share(TypedDict):
    type: str  # user, group or public
    name: str | None
    level: str  # view or edit
    inherited_from: NodeRef | None  # the folder the grant was made on, when not this node


class Shares(TypedDict):
    owner: str
    summary: str
    shares: list[Share]


def me(client: Client) -> Me:
    """The signed-in user (and so a check that the key works)."""
    return cast(Me, client.get("me"))


def absolute(path: str, root: str) -> str:
    """`/alice/a/b` for `a/b` with root `/alice`; absolute paths unchanged; `.` and `..` folded."""
    joined = path if path.startswith("/") else f"{root.rstrip('/')}/{path}"
    normal = posixpath.normpath(joined)
    return "/" + normal.lstrip("/")  # normpath keeps a leading `//`


def resolve(client: Client, path: str) -> Node:
    """The node at an absolute path; NotFound ("No such node: PATH") when absent or out of reach."""
    try:
        return cast(Node, client.get("nodes/resolve", {"path": path}))
    except NotFound as exc:
        raise NotFound(exc.status, exc.code, f"No such node: {path}", exc.detail) from exc


def node(client: Client, node_id: str) -> Node:
    return cast(Node, client.get(f"nodes/{node_id}"))


def children(client: Client, node_id: str, *, ordering: str = "name", page_size: int | None = None) -> Iterator[Node]:
    """Every live child of a folder, fetched page by page as the iteration proceeds."""
    params: dict[str, str | int] = {"ordering": ordering}
    if page_size is not None:
        params["page_size"] = page_size
    return cast(Iterator[Node], client.paginate(f"nodes/{node_id}/children", params))


def shares(client: Client, node_id: str) -> Shares:
    """Who can see a node and why: the grants on it and on its folders above."""
    return cast(Shares, client.get(f"nodes/{node_id}/shares"))


# --- uploads (docs/runs-api.md "Blob store and uploads") -------------------------------------------

UPLOADS = "uploads"
LIVE_RUNS = "runs"  # POST: create a Running run for the SDK's live mode (GET searches)
CONFLICT_STRATEGIES = ("skip", "error", "new", "replace")


class FileEntry(TypedDict):
    path: str
    size: int
    sha256: str
    mtime: str | None


class Upload(TypedDict, total=False):
    id: str
    missing: list[str]
    skipped: bool
    node: Node


def start_upload(client: Client, request: dict[str, Any]) -> Upload:
    """Send a manifest; the server answers the blobs it lacks, or that it skipped an existing node."""
    return cast(Upload, client.request("POST", UPLOADS, json=request))


def commit_upload(client: Client, upload_id: str) -> Node:
    """Create or update the node once every blob is stored; committing twice is harmless."""
    return cast(Node, client.request("POST", f"{UPLOADS}/{upload_id}/commit")["node"])


def node_files(client: Client, node_id: str) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], client.get(f"nodes/{node_id}/files"))


# --- runs (docs/runs-api.md "Search and export", "Run endpoints") ----------------------------------


def search_runs(client: Client, params: dict[str, str | int]) -> Iterator[dict[str, Any]]:
    """Every RunRow matching `filter` (and `folder_path`, `order_by`), page after page."""
    return client.paginate("runs", params)


def run(client: Client, run_id: str) -> dict[str, Any]:
    return cast(dict[str, Any], client.get(f"runs/{run_id}"))


def compare_runs(client: Client, run_ids: list[str]) -> dict[str, Any]:
    return cast(dict[str, Any], client.request("POST", "runs/compare", json={"runs": run_ids}))


def create_live_run(client: Client, request: dict[str, Any]) -> dict[str, Any]:
    """Start a Running run; `request["metrics"]`, if any, are its first points (as `append_metrics` takes
    them, NaN and infinities kept), stored with it in one transaction."""
    return cast(dict[str, Any], client.request("POST", LIVE_RUNS, json=request, nan_tokens=True))


def append_metrics(client: Client, run_id: str, metrics: dict[str, dict[str, list[Any]]]) -> int:
    """Append columnar batches `{key: {step, epoch, timestamp, value}}`; the number of points stored.
    A NaN or infinite value is data, sent as a `NaN` / `Infinity` token."""
    answer = client.request("POST", f"runs/{run_id}/metrics", json={"metrics": metrics}, nan_tokens=True)
    return int(answer.get("appended", 0)) if isinstance(answer, dict) else 0


def update_run(client: Client, run_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], client.request("PATCH", f"runs/{run_id}", json=changes))


def locate_run(client: Client, ref: str) -> dict[str, Any]:
    """A run's detail from its id or its path (relative paths start at the caller's root)."""
    if _looks_like_id(ref):
        return run(client, ref)
    path = ref if ref.startswith("/") else absolute(ref, me(client)["root"]["path"])
    found = resolve(client, absolute(path, "/"))
    if found["kind"] != "Run":
        raise NotFound(404, "not_a_run", f"{found['path']} is a {found['kind']}, not a run.")
    return run(client, found["id"])


def _looks_like_id(ref: str) -> bool:
    parts = ref.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(c in "0123456789abcdefABCDEF-" for c in ref)


# --- artifacts' files and references (docs/cli.md "Files") ------------------------------------------


def node_references(client: Client, node_id: str) -> dict[str, Any]:
    """`{references: [{path, uri}], problem}`: an artifact's external references (its references.yaml)."""
    return cast(dict[str, Any], client.get(f"nodes/{node_id}/references"))


# --- the Asset Hub (docs/assethub-api.md) ------------------------------------------------------------

ASSETS = "assets"
ASSET_KINDS = ("Model", "Dataset")


def create_asset(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    """`{asset: node, branches}` of a new model or dataset."""
    return cast(dict[str, Any], client.request("POST", ASSETS, json=body))


def asset(client: Client, asset_id: str) -> dict[str, Any]:
    return cast(dict[str, Any], client.get(f"{ASSETS}/{asset_id}"))


def resolve_ref(client: Client, ref: str) -> dict[str, Any]:
    """`{asset, ref: {kind, name, commit}, version}` of an absolute `path:ref` (or a path: its main)."""
    return cast(dict[str, Any], client.get(f"{ASSETS}/resolve", {"ref": ref}))


def versions(client: Client, asset_id: str, ref: str | None = None) -> Iterator[dict[str, Any]]:
    """Versions newest first (with `ref`, only those it descends from), page by page."""
    return client.paginate(f"{ASSETS}/{asset_id}/commits", {"ref": ref} if ref else {})


def stage(client: Client, asset_id: str, branch: str, body: dict[str, Any]) -> dict[str, Any]:
    """Stage `{add: [FileEntry], delete: [paths]}`; `{branch, missing, staged}`."""
    return cast(dict[str, Any], client.request("POST", f"{ASSETS}/{asset_id}/branches/{branch}/stage", json=body))


def commit(client: Client, asset_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], client.request("POST", f"{ASSETS}/{asset_id}/commits", json=body))


def branches(client: Client, asset_id: str) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], client.get(f"{ASSETS}/{asset_id}/branches"))


def create_branch(client: Client, asset_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], client.request("POST", f"{ASSETS}/{asset_id}/branches", json=body))


def tags(client: Client, asset_id: str) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], client.get(f"{ASSETS}/{asset_id}/tags"))


def create_tag(client: Client, asset_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], client.request("POST", f"{ASSETS}/{asset_id}/tags", json=body))


def merge(client: Client, asset_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], client.request("POST", f"{ASSETS}/{asset_id}/merge", json=body))


def diff_refs(client: Client, first: str, second: str) -> dict[str, Any]:
    """The diff between two absolute `path:ref`s (of one asset or two)."""
    return cast(dict[str, Any], client.get(f"{ASSETS}/diff", {"from": first, "to": second}))


def asset_files(client: Client, asset_id: str, ref: str) -> Iterator[dict[str, Any]]:
    """The files of a version, in path order, page by page."""
    return client.paginate(f"{ASSETS}/{asset_id}/files", {"ref": ref})


def looks_like_id(ref: str) -> bool:
    """Whether `ref` is a node id (a UUID) rather than a path."""
    return _looks_like_id(ref)


# --- lineage (docs/lineage.md) ------------------------------------------------------------------


def add_lineage(client: Client, run_id: str, lineage: dict[str, list[str]]) -> dict[str, Any]:
    """Add `{input: [refs], output: [refs]}` to a run; the run's lineage as you may see it."""
    return cast(dict[str, Any], client.request("POST", f"runs/{run_id}/lineage", json=lineage))


def run_lineage(client: Client, run_id: str) -> dict[str, Any]:
    return cast(dict[str, Any], client.get(f"runs/{run_id}/lineage"))


def remove_lineage_edge(client: Client, run_id: str, edge_id: int) -> None:
    client.request("DELETE", f"runs/{run_id}/lineage/{edge_id}")


def lineage_graph(client: Client, node: str, depth: int = 3) -> dict[str, Any]:
    """`{root, nodes, edges, hidden, truncated}` around a node id or path (`path:ref` for a version)."""
    return cast(dict[str, Any], client.get("lineage", {"node": node, "depth": depth}))


def autotune(client: Client, autotune_id: str) -> dict[str, Any]:
    """A search's profile, progress, best trial and indexing state."""
    return cast(dict[str, Any], client.get(f"autotune/{autotune_id}"))


def autotune_trials(client: Client, autotune_id: str, params: dict[str, str | int]) -> list[dict[str, Any]]:
    """One page of a search's trials (`filter`, `order_by`, `page_size`)."""
    answer = client.get(f"autotune/{autotune_id}/trials", params)
    return list(answer.get("results") or []) if isinstance(answer, dict) else []

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

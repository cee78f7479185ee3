"""The request sequences of the `t9k` SDK's `em` module, replayed over HTTP against a live server.

The real SDK cannot be installed here, so this client sends what it sends, in its order, and parses the
answers the way it does (docs/t9k.md "What the SDK does"): the key as `?apikey=<uuid>` on every request;
a folder is looked up with `nodes/info` and, on `404 node not found [<path>]` with `make_folder`, made
one level at a time; a run's node is created first, then `Invalid conflicting node Name` makes it try
the bundle's `alternativeName`; then every file of the bundle folder is one `POST objects` (multipart
field `content`), big ones in parts; lineage comes last (`POST graphs`). It checks the texts it reads
exactly as the SDK does, so a change of wording on the server fails here.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

PREFIX = "/t9k/aistore/server"
NOT_FOUND = re.compile(r"^node not found \[(?P<path>.*)\]$")


class SDKError(Exception):
    """What the SDK raises: its message is the server's text."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status} {text}")
        self.status = status
        self.text = text


@dataclass
class T9kReplay:
    host: str  # the live server's URL
    api_key: str  # the UUID form of an EM key
    sent: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request, in order

    def __post_init__(self) -> None:
        uuid.UUID(self.api_key)  # em.login refuses any key that is not a UUID before it sends anything
        self.session = requests.Session()

    # --- the wire -----------------------------------------------------------------------------------

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self.sent.append((method, path))
        response = self.session.request(
            method,
            f"{self.host}{PREFIX}{path}",
            params={**(params or {}), "apikey": self.api_key},
            timeout=30,
            **kwargs,
        )
        if response.status_code == 404 and not response.text:
            raise SDKError(404, "Incorrect URL")
        if response.status_code >= 400:
            if response.status_code == 404 and NOT_FOUND.match(response.text) is None and "[" not in response.text:
                raise AssertionError(f"the SDK splits a 404 on its bracket and would crash on {response.text!r}")
            raise SDKError(response.status_code, response.text)
        if response.headers.get("Content-Type", "").startswith("application/json"):
            return response.json()
        return response.content

    def login(self) -> str:
        return str(self.call("GET", "/oauth2/userinfo")["preferred_username"])

    def info(self, node: str) -> dict[str, Any]:
        return dict(self.call("GET", "/apis/v1/nodes/info", params={"node": node}))

    def create(self, parent: str, name: str, kind: str, storage: int, **fields: Any) -> str:
        body = {
            "parent": parent,
            "name": name,
            "type": kind,
            "storageType": storage,
            "labels": fields.get("labels", []),
            "description": fields.get("description", ""),
            "extra": json.dumps(fields.get("extra", {})),
        }
        return str(self.call("POST", "/apis/v1/nodes", json=body)["id"])

    def put_object(self, path: str, data: bytes) -> dict[str, Any]:
        return dict(self.call("POST", "/apis/v1/objects", params={"path": path}, files={"content": ("blob", data)}))

    def put_big_object(self, path: str, data: bytes, part_size: int) -> dict[str, Any]:
        upload = self.call("POST", "/apis/v1/objects/multipart", params={"path": path})["uploadId"]
        parts = []
        for number, start in enumerate(range(0, len(data), part_size), start=1):
            answer = self.call(
                "PUT",
                f"/apis/v1/objects/multipart/{upload}",
                params={"path": path, "partNumber": number},
                files={"content": ("part", data[start : start + part_size])},
            )
            parts.append({"etag": answer["eTag"], "partNumber": number})
        return dict(
            self.call("POST", f"/apis/v1/objects/multipart/{upload}", params={"path": path}, json={"parts": parts})
        )

    def link(self, edges: list[tuple[str, str]]) -> None:
        self.call("POST", "/apis/v1/graphs", json={"graphs": [{"from": a, "to": b} for a, b in edges]})

    def graph(self, current: str) -> dict[str, Any]:
        return dict(self.call("GET", "/apis/v1/graphs", params={"current": current}))

    # --- what `run.upload(folder=..., make_folder=True)` and `em upload` do --------------------------------

    def folder(self, path: str, *, make_folder: bool) -> dict[str, Any]:
        """The folder at `path`, made one level at a time when missing (the SDK reads the missing path
        out of the 404's brackets)."""
        try:
            return self.info(path)
        except SDKError as exc:
            match = NOT_FOUND.match(exc.text)
            if exc.status != 404 or match is None or not make_folder:
                raise
            assert match["path"] == path
        parent, _, name = path.rstrip("/").rpartition("/")
        self.folder(parent, make_folder=True)
        self.create(parent, name, "Folder", 0)
        return self.info(path)

    def upload(
        self, files: dict[str, bytes], *, kind: str, name: str, alternative: str, folder: str, **fields: Any
    ) -> dict[str, Any]:
        """A bundle folder (path → bytes) uploaded as the SDK does; the node made, as `nodes/info` tells it."""
        parent = self.folder(folder, make_folder=True)["path"]
        extra = {"alternativeName": alternative}
        try:
            self.create(parent, name, kind, 2, extra=extra, **fields)
        except SDKError as exc:
            if exc.text != "Invalid conflicting node Name":
                raise
            name = alternative  # the SDK's way out of a clash: the bundle folder's own name
            self.create(parent, name, kind, 2, extra=extra, **fields)
        node = self.info(f"{parent}/{name}")
        for path, data in files.items():
            self.put_object(f"{node['path']}/{path}", data)
        return node

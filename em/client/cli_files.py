"""`em files ls/download`: the files of any node that holds some (a run, an artifact, an AutoTune search,
or a model's or dataset's version).

A node is named by its path (relative paths start at your root) or its id; a model or dataset by
`path:ref` (its `main` when no ref is given). An artifact's external references (its references.yaml:
files kept elsewhere, by URI) are listed apart from its files: EM holds no bytes of theirs to download.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.text import Text

from em.client import api, config, render
from em.client.download import download_files
from em.client.errors import ClientError, NotFound
from em.client.http import Client
from em.client.sdk import snapshot


def _client() -> Client:
    return Client.from_config(config.load())


def absolute_ref(client: Client, ref: str) -> str:
    """`path[:ref]` made absolute against the caller's root (a node id passes unchanged)."""
    if api.looks_like_id(ref) or ref.startswith("/"):
        return ref
    return f"{api.me(client)['root']['path'].rstrip('/')}/{ref}"


class Holder:
    """Where a node's (or a version's) files are read: the URL base, the query, and what to call it."""

    def __init__(self, client: Client, ref: str) -> None:
        text = absolute_ref(client, ref)
        self.params: dict[str, str | int] = {}
        self.node: dict[str, Any]
        try:
            self.node = dict(api.node(client, text) if api.looks_like_id(text) else api.resolve(client, text))
        except NotFound:
            if ":" not in text:  # a path naming nothing; `path:ref` may still name a version
                raise
            resolved = api.resolve_ref(client, text)
            self.node, self.params = (
                dict(resolved["asset"]),
                {"ref": resolved["ref"]["commit"] or resolved["ref"]["name"]},
            )
        if self.node["kind"] in api.ASSET_KINDS:
            self.params = self.params or {"ref": "main"}
            self.base = f"{api.ASSETS}/{self.node['id']}"
        else:
            self.base = f"nodes/{self.node['id']}"
        self.client = client

    def files(self) -> list[dict[str, Any]]:
        if self.params:
            return list(api.asset_files(self.client, str(self.node["id"]), str(self.params["ref"])))
        return api.node_files(self.client, str(self.node["id"]))

    def references(self) -> dict[str, Any]:
        if self.params:
            return {"references": [], "problem": None}
        return api.node_references(self.client, str(self.node["id"]))


def save(holder: Holder, wanted: tuple[str, ...], directory: Path) -> tuple[int, int]:
    """Download `wanted` files (all when empty) of `holder` below `directory`; (files, bytes)."""
    files = holder.files()
    if wanted:
        by_path = {f["path"]: f for f in files}
        below = [f for w in wanted for f in files if f["path"].startswith(w.rstrip("/") + "/")]
        chosen = [by_path[w] for w in wanted if w in by_path] + below
        unknown = [w for w in wanted if w not in by_path and not any(f["path"].startswith(w + "/") for f in files)]
        if unknown:
            raise ClientError(None, "no_such_file", f"{holder.node['path']} holds no file or folder {unknown[0]!r}.")
        files = list({f["path"]: f for f in chosen}.values())
    written = download_files(holder.client, holder.base, files, directory, params=holder.params or None)
    return len(files), written


@click.group()
def files() -> None:
    """List and download the files of runs, artifacts, models and datasets."""


@files.command("ls")
@click.argument("node")
def ls(node: str) -> None:
    """List NODE's files (and an artifact's external references)."""
    with _client() as client:
        holder = Holder(client, node)
        listing = holder.files()
        refs = holder.references()
    console = render.console()
    if listing:
        console.print(render.files_table(listing))
    else:
        click.echo(f"{holder.node['path']} holds no files.", err=True)
    if refs["references"]:
        console.print(render.references_table(refs["references"]))
    if refs.get("problem"):
        console.print(Text(f"Note: {refs['problem']}", style="yellow"))


@files.command("download")
@click.argument("node")
@click.argument("paths", nargs=-1)
@click.option(
    "-d",
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to save them (their folders are kept).",
)
def download(node: str, paths: tuple[str, ...], directory: Path) -> None:
    """Download NODE's files: the PATHS named (files or folders), or all of them."""
    with _client() as client:
        holder = Holder(client, node)
        count, written = save(holder, paths, directory)
    click.echo(f"Downloaded {count} file(s), {snapshot.human_size(written)}, from {holder.node['path']} to {directory}")


COMMANDS: list[click.Command] = [files]

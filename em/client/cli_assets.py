"""`em asset`: models and datasets of the Asset Hub (docs/assethub-api.md) from the command line.

An asset is named by its path (relative paths start at your root, so your models are under
`t9k-assethub/model/...`), a version by `path:ref` with a branch, tag or commit as the ref. Commits go
through the Asset Hub's stage → send what is missing → commit, with blobs sent by the one uploader
(`em.client.upload.send_blobs`): files the server already has from you are never sent again.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from em.client import api, config, render
from em.client.cli_files import Holder, absolute_ref, save
from em.client.errors import ClientError
from em.client.http import Client
from em.client.sdk import snapshot
from em.client.upload import file_entry, manifest, send_blobs

ASSET_ROOT = "t9k-assethub"
MAX_TREE_DEPTH = 8  # `em asset ls` walks folders this deep looking for assets


def _client() -> Client:
    return Client.from_config(config.load())


def _asset(client: Client, ref: str) -> dict[str, Any]:
    """`{asset, ref: {kind, name, commit}, version}` of ASSET[:REF] (its main when no ref is given)."""
    return api.resolve_ref(client, absolute_ref(client, ref))


def _id(client: Client, ref: str) -> str:
    return str(_asset(client, ref)["asset"]["id"])


@click.group()
def asset() -> None:
    """Models and datasets: versions, branches, tags, diff, merge, download."""


@asset.command("ls")
@click.argument("path", required=False)
def ls(path: str | None) -> None:
    """List the assets under PATH (default: your t9k-assethub folder), or one asset's branches and tags."""
    with _client() as client:
        top = api.resolve(client, absolute_ref(client, path or ASSET_ROOT))
        if top["kind"] in api.ASSET_KINDS:
            render.console().print(render.refs_table(api.branches(client, top["id"]), api.tags(client, top["id"])))
            return
        found = list(_assets_below(client, top, MAX_TREE_DEPTH))
    if not found:
        click.echo(f"No models or datasets under {top['path']}.", err=True)
        return
    render.console().print(render.assets_table(found))


def _assets_below(client: Client, folder: api.Node, depth: int) -> Any:
    for child in api.children(client, folder["id"]):
        if child["kind"] in api.ASSET_KINDS:
            yield child
        elif child["kind"] == api.FOLDER and depth > 0:
            yield from _assets_below(client, child, depth - 1)


@asset.command()
@click.argument("kind", type=click.Choice(["model", "dataset"], case_sensitive=False))
@click.argument("path")
@click.option("-l", "--label", "labels", multiple=True, help="A label (repeatable).")
@click.option("--description", default="", help="What it is.")
def create(kind: str, path: str, labels: tuple[str, ...], description: str) -> None:
    """Create a model or dataset. PATH is a name (`cv/resnet` goes to t9k-assethub/<kind>/cv/resnet) or an
    absolute path; missing folders are made."""
    kind = kind.capitalize()
    with _client() as client:
        if path.startswith("/"):
            parent, name = posixpath.split(api.absolute(path, "/"))
        else:
            home = api.me(client)["root"]["path"]
            where = api.absolute(f"{ASSET_ROOT}/{kind.lower()}/{path}", home)
            parent, name = posixpath.split(where)
        body = {"kind": kind, "name": name, "parent_path": parent, "make_folder": True, "labels": list(labels)}
        made = api.create_asset(client, {**body, "description": description})
    click.echo(f"Created {kind.lower()} {made['asset']['path']}")


def _additions(specs: tuple[str, ...]) -> tuple[list[api.FileEntry], dict[str, Path]]:
    """Entries and local sources for `-a LOCAL[:PATH]`: a file goes to PATH (default: its name), a folder's
    files below PATH (default: the folder's name; `.` or empty: the top)."""
    entries: list[api.FileEntry] = []
    sources: dict[str, Path] = {}
    for spec in specs:
        local_text, _, target = spec.partition(":")
        local = Path(local_text)
        if not local.exists():
            raise click.BadParameter(f"{local} does not exist.", param_hint="-a")
        default = local.resolve().name
        prefix = (target if _ else default).strip("/")
        prefix = "" if prefix == "." else prefix
        if local.is_dir():
            found, where = manifest(local)
            for entry in found:
                entries.append({**entry, "path": posixpath.join(prefix, entry["path"]) if prefix else entry["path"]})
            sources.update(where)
        else:
            entry = file_entry(local, prefix or default)
            entries.append(entry)
            sources.setdefault(entry["sha256"], local)
    return entries, sources


def _metadata(pairs: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE.", param_hint="--meta")
        out[key] = value
    return out


@asset.command()
@click.argument("asset_path", metavar="ASSET")
@click.option("-a", "--add", "adds", multiple=True, metavar="LOCAL[:PATH]", help="A file or folder to add or replace.")
@click.option("-d", "--delete", "deletes", multiple=True, metavar="PATH", help="A file or folder to remove.")
@click.option("-m", "--message", default="", help="What this version changes.")
@click.option("-b", "--branch", default="main", show_default=True)
@click.option("--meta", "meta", multiple=True, metavar="KEY=VALUE", help="Free metadata of the version.")
def commit(
    asset_path: str, adds: tuple[str, ...], deletes: tuple[str, ...], message: str, branch: str, meta: tuple[str, ...]
) -> None:
    """Commit a new version of ASSET: add, replace (-a) and delete (-d) files, then commit."""
    if not adds and not deletes:
        raise click.UsageError("Nothing to commit: give -a LOCAL[:PATH] or -d PATH.")
    entries, sources = _additions(adds)
    console = Console(stderr=True)
    with _client() as client:
        asset_id = _id(client, asset_path)
        body: dict[str, Any] = {"add": list(entries)}
        if deletes:
            body["delete"] = list(deletes)
        staged = api.stage(client, asset_id, branch, body)
        sent = send_blobs(client, staged.get("missing") or [], sources, label=asset_path, console=console)
        request: dict[str, Any] = {"branch": branch, "message": message, "metadata": _metadata(meta)}
        version = api.commit(client, asset_id, request)
    click.echo(
        f"Committed {version['id'][:12]} on {branch}: {version['file_count']} file(s), {snapshot.human_size(sent)} sent"
    )


@asset.command()
@click.argument("ref", metavar="ASSET[:REF]")
@click.option("-n", "--limit", type=click.IntRange(1), default=50, show_default=True, help="Versions to show.")
def log(ref: str, limit: int) -> None:
    """The versions REF descends from, newest first."""
    with _client() as client:
        found = _asset(client, ref)
        rows = []
        for version in api.versions(client, str(found["asset"]["id"]), found["ref"]["commit"] or None):
            rows.append(version)
            if len(rows) >= limit:
                break
    if not rows:
        click.echo(f"{found['asset']['path']} has no versions on {found['ref']['name']}.", err=True)
        return
    render.console().print(render.versions_table(rows))


@asset.command()
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
def diff(first: str, second: str) -> None:
    """What changed from version A to version B (`path:ref` each; two assets too)."""
    with _client() as client:
        answer = api.diff_refs(client, absolute_ref(client, first), absolute_ref(client, second))
    render.console().print(render.asset_diff(answer))


@asset.command()
@click.argument("asset_path", metavar="ASSET")
@click.argument("name", required=False)
@click.option("-r", "--ref", default="main", show_default=True, help="The version to tag.")
def tag(asset_path: str, name: str | None, ref: str) -> None:
    """Tag a version of ASSET as NAME (tags never move); without NAME, list the tags."""
    with _client() as client:
        asset_id = _id(client, asset_path)
        if name is None:
            render.console().print(render.refs_table([], api.tags(client, asset_id)))
            return
        made = api.create_tag(client, asset_id, {"name": name, "ref": ref})
    click.echo(f"Tagged {str(made['version'])[:12]} as {made['name']}")


@asset.command()
@click.argument("asset_path", metavar="ASSET")
@click.argument("name", required=False)
@click.option("-s", "--start", default=None, help="Where it starts (default: main).")
@click.option("--orphan", is_flag=True, help="Start empty, with no history.")
def branch(asset_path: str, name: str | None, start: str | None, orphan: bool) -> None:
    """Create branch NAME of a model; without NAME, list the branches."""
    with _client() as client:
        asset_id = _id(client, asset_path)
        if name is None:
            render.console().print(render.refs_table(api.branches(client, asset_id), []))
            return
        body: dict[str, Any] = {"name": name, "orphan": orphan}
        if start:
            body["start"] = start
        made = api.create_branch(client, asset_id, body)
    click.echo(f"Created branch {made['name']} at {str(made.get('head') or 'no commit')[:12]}")


@asset.command()
@click.argument("asset_path", metavar="ASSET")
@click.argument("source")
@click.option("-i", "--into", default="main", show_default=True)
@click.option("-m", "--message", default=None, help="The merge version's message.")
def merge(asset_path: str, source: str, into: str, message: str | None) -> None:
    """Merge branch SOURCE of a model into main (or --into)."""
    with _client() as client:
        body: dict[str, Any] = {"source": source, "into": into}
        if message is not None:
            body["message"] = message
        answer = api.merge(client, _id(client, asset_path), body)
    version = answer.get("version") or {}
    click.echo(f"{answer['result']}: {into} is at {str(version.get('id') or '')[:12]}")


@asset.command()
@click.argument("ref", metavar="ASSET[:REF]")
@click.option("-o", "--object", "objects", multiple=True, metavar="PATH", help="A file or folder (repeatable).")
@click.option(
    "-d", "--directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True
)
def download(ref: str, objects: tuple[str, ...], directory: Path) -> None:
    """Download a version's files (all, or the -o ones) into a folder."""
    with _client() as client:
        holder = Holder(client, ref)
        if holder.node["kind"] not in api.ASSET_KINDS:
            raise ClientError(None, "not_an_asset", f"{holder.node['path']} is a {holder.node['kind']}: use em files.")
        count, written = save(holder, objects, directory)
    click.echo(f"Downloaded {count} file(s), {snapshot.human_size(written)}, to {directory}")


COMMANDS: list[click.Command] = [asset]

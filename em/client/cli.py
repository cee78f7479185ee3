"""The `em` command line.

Commands stay thin: they read the configuration, call `em.client.api`, and print with `render`. Exit codes
are part of the interface for scripts: 0 done, 1 EM refused or could not be reached (a one-line message
on stderr, never a traceback), 2 a usage error (click's own).
"""

from __future__ import annotations

import os
from typing import Any

import click
from rich.text import Text

from em.client import api, cli_assets, cli_autotune, cli_files, cli_lineage, cli_runs, config, render
from em.client.errors import ClientError, Unauthorized
from em.client.http import Client
from em.client.version import __version__

DEFAULT_PAGE_SIZE = 500  # children per request: few round trips, yet a quick first answer


class EMGroup(click.Group):
    """A click group that turns every ClientError into `Error: <message>` and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Unauthorized as err:
            hint = "" if ctx.invoked_subcommand == "login" else " Run em login to sign in again."
            raise click.ClickException(f"{err.message}{hint}") from None
        except ClientError as err:
            raise click.ClickException(err.message) from None


_console = render.console


def _client() -> Client:
    return Client.from_config(config.load())


def _locate(client: Client, path: str | None) -> api.Node:
    """The node at PATH: absolute as given, relative to the caller's root, or the root itself."""
    if path is not None and path.startswith("/"):
        return api.resolve(client, api.absolute(path, "/"))
    me = api.me(client)
    if not path:
        return api.node(client, me["root"]["id"])
    return api.resolve(client, api.absolute(path, me["root"]["path"]))


@click.group(cls=EMGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="em")
def main() -> None:
    """EM: experiment management from the command line.

    Paths look like /alice/experiments/mnist; a path without a leading / is taken from your own root
    folder. Sign in first with `em login`.
    """


@main.command()
@click.option("--host", help="The EM server, e.g. https://em.example.com (prompted for when left out).")
@click.option(
    "--api-key",
    help="An API key from EM. Left out, it is prompted for without echo, which keeps it out of your "
    "shell history and the process list.",
)
def login(host: str | None, api_key: str | None) -> None:
    """Check an API key against a server and save both in ~/.em/config.yaml."""
    saved = config.load()
    if not host:
        host = click.prompt("EM host", default=saved.host, type=str)
    try:
        host = config.normalize_host(host)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--host") from None
    if not api_key:
        api_key = click.prompt("API key", hide_input=True, type=str)
    api_key = api_key.strip()
    if not api_key:
        raise click.BadParameter("The API key must not be empty.", param_hint="--api-key")
    with Client(host, api_key) as client:
        user = api.me(client)
    path = config.update(host=host, api_key=api_key)
    click.echo(f"Signed in to {host} as {user['username']}")
    click.echo(f"Saved to {path}.", err=True)
    for variable in (config.HOST_ENV, config.API_KEY_ENV):
        if os.environ.get(variable):
            click.echo(f"Note: {variable} is set in your environment and takes precedence.", err=True)


@main.command()
def logout() -> None:
    """Forget the saved API key (the key itself stays valid until revoked in EM)."""
    saved = config.read_file()
    if saved.api_key is None:
        click.echo("Not signed in.")
    else:
        config.update(api_key=None)
        click.echo(f"Signed out of {saved.host or 'EM'}: the API key is no longer saved here.")
        click.echo("It stays valid until you revoke it in EM.", err=True)
    if os.environ.get(config.API_KEY_ENV):
        click.echo(f"Note: {config.API_KEY_ENV} is still set in your environment.", err=True)


@main.command("ls")
@click.argument("path", required=False)
@click.option("-d", "--directory", is_flag=True, help="Show the node itself, not its children (as ls -d).")
@click.option("--page-size", type=click.IntRange(1, 1000), default=DEFAULT_PAGE_SIZE, hidden=True)
def ls(path: str | None, directory: bool, page_size: int) -> None:
    """List a folder's children (default: your root folder).

    A shortcut to a folder lists the folder it points to; any other node is shown itself.
    """
    with _client() as client:
        node = _locate(client, path)
        folder = _listable(node)
        if directory or folder is None:
            _console().print(render.node_table([node]))
            return
        items = list(api.children(client, folder, page_size=page_size))
    if items:
        _console().print(render.node_table(items))
    else:
        click.echo(f"{node['path']} is empty.", err=True)


def _listable(node: api.Node) -> str | None:
    """The id of the folder whose children `ls` shows for this node, if any."""
    if node["kind"] == api.FOLDER:
        return node["id"]
    target = node["target"]
    if node["kind"] == api.SHORTCUT and target is not None and target["kind"] == api.FOLDER:
        return target["id"]
    return None


@main.command()
@click.argument("path")
def describe(path: str) -> None:
    """Show a node's details and who can see it."""
    with _client() as client:
        node = _locate(client, path)
        shares = api.shares(client, node["id"])
    console = _console()
    console.print(Text(node["path"], style="bold"))
    console.print(render.node_details(node))
    console.print()
    console.print(Text("Shares", style="bold"))
    console.print(render.shares_view(shares))


for command in [*cli_runs.COMMANDS, *cli_files.COMMANDS, *cli_assets.COMMANDS]:
    main.add_command(command)
main.add_command(cli_lineage.lineage)
main.add_command(cli_autotune.autotune)


if __name__ == "__main__":
    main(prog_name="em")

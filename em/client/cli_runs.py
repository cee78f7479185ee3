"""The run commands of `em`: upload, runs search/show/diff, run (the wrapper) and reproduce.

Registered on the `em` group by `cli`; the same exit codes hold: 0 done, 1 EM refused or could not be
reached, 2 a usage error. `em run` and `em reproduce --exec` exit with the command's own status when it
failed, so that scripts and CI can rely on them as on the bare command.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import click

from em.client import api, config, render
from em.client.download import download
from em.client.errors import ClientError
from em.client.http import Client
from em.client.sdk import snapshot
from em.client.sdk.wrapper import CONFIG_FILE, RunConfig, chosen_env, execute
from em.client.upload import Outcome, Uploader, find_bundles, folder_path

SEARCH_LIMIT = 100  # rows shown by default: a terminal table, not an export (use --csv for everything)


class UsageProblem(click.ClickException):
    """A usage error found after parsing (a bad bundle path, a snapshot too big): exit 2."""

    exit_code = 2


def _client() -> Client:
    return Client.from_config(config.load())


folder_option = click.option(
    "-f", "--folder", help="Destination folder in EM, e.g. /alice/mnist (relative: from your root)."
)
make_folder_option = click.option("-m", "--make-folder", is_flag=True, help="Create the folder if it is missing.")


# --- upload -----------------------------------------------------------------------------------------


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
@click.option("--path", "more_paths", multiple=True, type=click.Path(file_okay=False, path_type=Path), hidden=True)
@click.option(
    "-a",
    "--artifact",
    "plain",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A plain folder of files (no metadata.yaml) to upload as an artifact named after the folder.",
)
@folder_option
@make_folder_option
@click.option(
    "-c",
    "--conflict-strategy",
    type=click.Choice(api.CONFLICT_STRATEGIES),
    default="new",
    show_default=True,
    help="When the folder already holds a node of that name: skip it, fail, add a new one, or replace it.",
)
def upload(
    paths: tuple[Path, ...],
    more_paths: tuple[Path, ...],
    plain: tuple[Path, ...],
    folder: str | None,
    make_folder: bool,
    conflict_strategy: str,
) -> None:
    """Upload run bundles (or artifacts): one bundle folder, a folder holding several (.em/runs), or a
    whole .em folder (its artifacts, then its runs).

    Only files the server does not have yet are sent; artifacts the runs used or produced go first. The
    same bundle uploaded into the same folder again is skipped (by its alternativeName) unless -c replace.
    """
    given = paths + more_paths
    if not given and not plain:
        raise UsageProblem("Give a bundle folder to upload, e.g. em upload .em, or -a FOLDER for plain files")
    try:
        bundles = find_bundles(given)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    with _client() as client:
        uploader = Uploader(client, folder=folder, make_folder=make_folder, conflict_strategy=conflict_strategy)
        outcomes = [uploader.upload(path, plain=True) for path in plain]
        outcomes += [uploader.upload(path) for path in bundles]
    failed = [o for o in outcomes if o.error]
    for outcome in outcomes:
        _report(outcome)
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(outcomes)} uploads failed.")


def _report(outcome: Outcome) -> None:
    if outcome.error:
        click.echo(f"Failed {outcome.folder}: {outcome.error}", err=True)
        return
    notes = "; ".join(outcome.notes)
    if outcome.skipped:
        click.echo(f"Skipped {outcome.folder}: {notes}")
        return
    where = (outcome.node or {}).get("path", "EM")
    sent = f"{outcome.sent_files} sent, {snapshot.human_size(outcome.sent_bytes)}"
    click.echo(f"Uploaded {outcome.folder} -> {where} ({outcome.files} files, {sent})")
    if notes:
        click.echo(f"Note: {notes}", err=True)


# --- runs search / show / diff ----------------------------------------------------------------------


@click.group()
def runs() -> None:
    """Find, show and compare runs."""


@runs.command()
@click.argument("filter", required=False, default="")
@click.option("--folder", help="Only runs under this folder (recursively).")
@click.option("--order-by", help="e.g. 'metrics.val.acc DESC' or 'attributes.start_time'.")
@click.option("--limit", type=click.IntRange(1), default=SEARCH_LIMIT, show_default=True, help="Rows to show.")
@click.option("--csv", "as_csv", is_flag=True, help="Write every matching run as CSV to stdout instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as the API answers them (full precision).")
def search(filter: str, folder: str | None, order_by: str | None, limit: int, as_csv: bool, as_json: bool) -> None:
    """Search runs with a filter like "metrics.val.acc > 0.9 AND params.lr < 0.01"."""
    with _client() as client:
        params: dict[str, str | int] = {"filter": filter}
        if folder:
            params["folder_path"] = folder_path(client, folder)
        if order_by:
            params["order_by"] = order_by
        if as_csv:
            with client.transfer("GET", "runs/export.csv", params=params) as answer:
                answer.encoding = answer.encoding or "utf-8"
                for chunk in answer.iter_content(1 << 16, decode_unicode=True):
                    click.echo(chunk, nl=False)
            return
        params["page_size"] = min(limit, 1000)
        rows: list[dict[str, Any]] = []
        more = False
        for row in api.search_runs(client, params):
            if len(rows) >= limit:
                more = True
                break
            rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No runs match.", err=True)
        return
    render.console().print(render.runs_table(rows))
    shown = f"{len(rows)} run{'s' if len(rows) != 1 else ''}"
    click.echo(f"{shown}, the first {limit} of more: --limit N shows more, --csv all." if more else shown, err=True)


@runs.command()
@click.argument("run")
def show(run: str) -> None:
    """Show a run (by id or path): attributes, params, metrics, tags and lineage."""
    with _client() as client:
        detail = api.locate_run(client, run)
    render.console().print(render.run_details(detail))


@runs.command()
@click.argument("first")
@click.argument("second")
@click.option("--json", "as_json", is_flag=True, help="Print the whole comparison as the API answers it.")
def diff(first: str, second: str, as_json: bool) -> None:
    """Show the params and metrics that differ between two runs (ids or paths)."""
    with _client() as client:
        ids = [api.locate_run(client, ref)["id"] for ref in (first, second)]
        comparison = api.compare_runs(client, ids)
    if as_json:
        click.echo(json.dumps(comparison, indent=2, ensure_ascii=False))
        return
    table = render.diff_table(comparison)
    if table is None:
        click.echo("No params or metrics differ.")
        return
    render.console().print(table)


# --- run and reproduce ------------------------------------------------------------------------------


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--name", help="The run's name (default: the command's name).")
@folder_option
@make_folder_option
@click.option("--max-duration", type=click.FloatRange(min=0, min_open=True), help="Seconds before it is stopped.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="A saved em-run.yaml.")
@click.option("--no-snapshot", is_flag=True, help="Do not keep a snapshot of the source folder.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run(
    ctx: click.Context,
    name: str | None,
    folder: str | None,
    make_folder: bool,
    max_duration: float | None,
    config_file: Path | None,
    no_snapshot: bool,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND as a recorded run: output, exit status, git, platform and a source snapshot.

    Use `--` before the command: em run --name mnist -- python train.py --lr 0.1
    """
    try:
        settings = RunConfig.load(config_file) if config_file else RunConfig(command=[])
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    settings.command = list(command) or settings.command
    if not settings.command:
        raise UsageProblem("Give the command to run after --, e.g. em run -- python train.py")
    settings.name = name or settings.name
    settings.folder = folder if folder is not None else settings.folder
    settings.make_folder = make_folder or settings.make_folder
    settings.max_duration = max_duration if max_duration is not None else settings.max_duration
    settings.env = {**chosen_env(os.environ), **settings.env}
    try:
        outcome = execute(settings, source=Path.cwd(), take_snapshot=not no_snapshot)
    except snapshot.SnapshotError as exc:
        raise UsageProblem(str(exc)) from None
    bundle_path = os.path.relpath(outcome.run.folder)
    click.echo(
        f"em run: {settings.run_name} {outcome.run.status} in {render.duration_text(outcome.duration)} "
        f"(exit {outcome.exit_code}); saved in {bundle_path}",
        err=True,
    )
    uploaded = _upload_after_run(outcome.run.folder, settings)
    if outcome.exit_code:
        ctx.exit(outcome.exit_code)
    if not uploaded:
        ctx.exit(1)


def _upload_after_run(folder: Path, settings: RunConfig) -> bool:
    """Upload the bundle when signed in; False only when EM was asked and said no (or was away)."""
    later = f"Upload it later with: em upload {os.path.relpath(folder)}"
    try:
        current = config.load()
        if not (current.host and current.api_key):
            click.echo(f"em run: not uploaded: not signed in (em login, or EM_HOST and EM_API_KEY). {later}", err=True)
            return True
        with Client.from_config(current) as client:
            uploader = Uploader(client, folder=settings.folder, make_folder=settings.make_folder)
            result = uploader.upload(folder)
    except ClientError as exc:
        click.echo(f"em run: could not upload: {exc.message} {later}", err=True)
        return False
    if result.error:
        click.echo(f"em run: could not upload: {result.error} {later}", err=True)
        return False
    _report(result)
    return True


@click.command()
@click.argument("run_ref", metavar="RUN")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--exec", "execute_now", is_flag=True, help="Run the command there once downloaded.")
@click.pass_context
def reproduce(ctx: click.Context, run_ref: str, directory: Path | None, execute_now: bool) -> None:
    """Download a run's source snapshot and configuration (from em run) into DIRECTORY."""
    with _client() as client:
        detail = api.locate_run(client, run_ref)
        files = {entry["path"] for entry in api.node_files(client, detail["id"])}
        if CONFIG_FILE not in files:
            raise click.ClickException(f"{detail['path']} was not recorded with em run: it has no {CONFIG_FILE}.")
        target = directory or Path(detail["name"])
        if target.exists() and any(target.iterdir()):
            raise UsageProblem(f"{target} is not empty; give an empty or new directory.")
        target.mkdir(parents=True, exist_ok=True)
        download(client, detail["id"], CONFIG_FILE, target / CONFIG_FILE)
        if snapshot.ARCHIVE in files:
            with tempfile.TemporaryDirectory(prefix="em-reproduce-") as scratch:
                archive = Path(scratch) / snapshot.ARCHIVE
                download(client, detail["id"], snapshot.ARCHIVE, archive)
                try:
                    count = snapshot.extract(archive, target)
                except snapshot.SnapshotError as exc:
                    raise click.ClickException(str(exc)) from None
            click.echo(f"Extracted {count} source files into {target}.", err=True)
    settings = RunConfig.load(target / CONFIG_FILE)
    command = shlex.join(settings.command)
    if not execute_now:
        click.echo(f"cd {shlex.quote(str(target))} && {command}")
        click.echo(
            f"(or record it as a new run: cd {shlex.quote(str(target))} && em run --config {CONFIG_FILE})", err=True
        )
        return
    done = subprocess.run(settings.command, cwd=target, env={**os.environ, **settings.env}, check=False)  # noqa: S603
    ctx.exit(done.returncode)


COMMANDS: list[click.Command] = [upload, runs, run, reproduce]

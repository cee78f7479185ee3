"""`em upload`, `em runs search/show/diff`, `em run` and `em reproduce` end to end against a live server.

Bundles are written by the real SDK in a temporary working directory, uploaded over HTTP with a real
API key, indexed by the server's own task, and read back through the CLI as a person would.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
import yaml

import em
from em.client import api
from em.models import Kind, LineageEdge, Node
from tests.factories import folder, root

live = pytest.mark.django_db(transaction=True)
pytestmark = pytest.mark.usefixtures("workdir")


def make_runs() -> tuple[em.Run, em.Run, em.Artifact]:
    data = em.create_artifact("digits")
    Path("digits.csv").write_text("x,y\n1,2\n")
    data.add_file("digits.csv")
    with em.create_run(name="mnist-a", hparams={"lr": 0.1, "layers": 2}) as first:
        first.mark_input(data)
        first.mark_output("/alice/models")
        for step in range(1, 11):
            first.log("train", {"loss": 1.0 / step}, step=step, epoch=1)
        first.log("val", {"acc": 0.9}, step=10)
    with em.create_run(name="mnist-b", hparams={"lr": 0.01, "layers": 2}) as second:
        second.mark_input(data)
        second.log("train", {"loss": 0.5}, step=10)
        second.log("val", {"acc": 0.95}, step=10)
    return first, second, data


# --- upload -----------------------------------------------------------------------------------------


@live
def test_upload_sends_runs_and_their_artifacts_once(signed_in, alice, em_cli, workdir):
    folder(root(alice), "models")
    first, _, _ = make_runs()
    result = em_cli("upload", ".em/runs", "-f", "mnist", "-m")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"Uploaded {Path('.em/runs') / first.folder.name} -> /alice/mnist/mnist-a (")
    assert "/alice/mnist/mnist-b" in lines[1]

    artifacts = Node.objects.filter(kind=Kind.ARTIFACT, name="digits")
    assert artifacts.count() == 1
    artifact = artifacts.get()
    assert artifact.parent.name == "mnist"
    run_a = Node.objects.get(name="mnist-a")
    edges = {(e.direction, e.other.name) for e in LineageEdge.objects.filter(run=run_a)}
    assert edges == {("input", "digits"), ("output", "models")}
    assert LineageEdge.objects.filter(run__name="mnist-b", other=artifact).exists()

    again = em_cli("upload", ".em/runs", "-f", "mnist")
    assert again.exit_code == 0, again.output
    assert again.stdout.count("already uploaded as /alice/mnist/") == 2

    replaced = em_cli("upload", str(first.folder), "-f", "mnist", "-c", "replace")
    assert replaced.exit_code == 0, replaced.output
    assert "-> /alice/mnist/mnist-a" in replaced.stdout
    assert Node.objects.filter(name="mnist-a", deleted_at__isnull=True).count() == 1


@live
def test_upload_refusals_are_clear(signed_in, alice, em_cli, workdir):
    with em.create_run(name="lonely") as run:
        pass
    result = em_cli("upload", str(run.folder), "--folder", "/alice/missing")
    assert result.exit_code == 1
    assert f"Failed {run.folder}:" in result.stderr
    assert "1 of 1 uploads failed." in result.stderr

    result = em_cli("upload", str(run.folder), "--folder", "/bob/elsewhere", "-m")
    assert result.exit_code == 1

    assert em_cli("upload", str(workdir)).exit_code == 2  # holds no bundle
    assert em_cli("upload").exit_code == 2
    assert em_cli("upload", str(run.folder), "-c", "overwrite").exit_code == 2
    result = em_cli("upload", "--path", str(run.folder), "-f", "fresh", "-m")
    assert result.exit_code == 0, result.output
    assert "-> /alice/fresh/lonely" in result.stdout


def test_upload_without_a_server_says_how_to_sign_in(em_cli, workdir):
    with em.create_run(name="nowhere") as run:
        pass
    result = em_cli("upload", str(run.folder))
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: Not signed in: run em login (or set EM_HOST and EM_API_KEY)."


# --- runs search / show / diff ----------------------------------------------------------------------


@live
def test_search_show_and_diff(signed_in, alice, em_cli, workdir):
    folder(root(alice), "models")
    make_runs()
    assert em_cli("upload", ".em/runs", "-f", "mnist", "-m").exit_code == 0

    result = em_cli("runs", "search", "params.lr > 0.05", "--folder", "mnist")
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split()
    assert header[:4] == ["name", "status", "started", "duration"]
    assert {"lr", "layers", "train.loss", "val.acc"} <= set(header)
    rows = [line.split()[0] for line in result.stdout.splitlines()[2:] if line.strip()]
    assert rows == ["mnist-a"]

    ordered = em_cli("runs", "search", "--order-by", "metrics.val.acc DESC")
    assert [line.split()[0] for line in ordered.stdout.splitlines()[2:] if line.strip()] == ["mnist-b", "mnist-a"]

    exported = em_cli("runs", "search", "attributes.name LIKE 'mnist%'", "--csv")
    assert exported.exit_code == 0, exported.output
    table = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert sorted(row["Name"] for row in table) == ["mnist-a", "mnist-b"]

    bad = em_cli("runs", "search", "metrics.acc >>> 1")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("Error: ")
    assert em_cli("runs", "search", "attributes.name = 'none'").stderr.strip() == "No runs match."

    shown = em_cli("runs", "show", "mnist/mnist-a")
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    assert out.splitlines()[0] == "/alice/mnist/mnist-a"
    assert "Complete" in out
    assert "train.loss" in out and "0.1" in out
    run_id = Node.objects.get(name="mnist-a").pk
    assert em_cli("runs", "show", str(run_id)).stdout == out
    missing = em_cli("runs", "show", "/alice/mnist/none")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "Error: No such node: /alice/mnist/none"
    assert "not a run" in em_cli("runs", "show", "/alice/mnist").stderr

    diff = em_cli("runs", "diff", "mnist/mnist-a", "mnist/mnist-b")
    assert diff.exit_code == 0, diff.output
    keys = {line.split()[1] for line in diff.stdout.splitlines()[2:] if line.strip()}
    assert "lr" in keys
    assert "val.acc" in keys
    assert "layers" not in keys  # equal in both
    same = em_cli("runs", "diff", "mnist/mnist-a", "mnist/mnist-a")
    assert same.exit_code == 1
    assert same.stderr.strip() == "Error: Compare at least 2 different runs."

    with em.create_run(name="mnist-c", hparams={"lr": 0.01, "layers": 2}) as third:
        third.log("train", {"loss": 0.5}, step=10)
        third.log("val", {"acc": 0.95}, step=10)
    assert em_cli("upload", str(third.folder), "-f", "mnist").exit_code == 0
    alike = em_cli("runs", "diff", "mnist/mnist-b", "mnist/mnist-c")
    assert alike.exit_code == 0, alike.output
    assert alike.stdout.strip() == "No params or metrics differ."


# --- em run and reproduce ---------------------------------------------------------------------------


@live
def test_em_run_uploads_then_reproduce_brings_it_back(signed_in, alice, em_cli, workdir, tmp_path):
    (workdir / "train.py").write_text("import sys\nprint('training with', sys.argv[1:])\n")
    (workdir / "lib").mkdir()
    (workdir / "lib" / "util.py").write_text("X = 1\n")
    result = em_cli("run", "--name", "wrapped", "-f", "jobs", "-m", "--", sys.executable, "train.py", "--lr", "0.1")
    assert result.exit_code == 0, result.output
    assert "training with ['--lr', '0.1']" in result.stdout
    assert "-> /alice/jobs/wrapped" in result.stdout
    node = Node.objects.get(name="wrapped", kind=Kind.RUN)
    files = {f["path"] for f in api.node_files(signed_in, str(node.pk))}
    assert {"code.tar.gz", "em-run.yaml", "stdout.log", "metadata.yaml"} <= files

    target = tmp_path / "again"
    shown = em_cli("reproduce", "jobs/wrapped", str(target))
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.strip() == f"cd {target} && {sys.executable} train.py --lr 0.1"
    assert (target / "train.py").read_text() == (workdir / "train.py").read_text()
    assert (target / "lib" / "util.py").exists()
    assert yaml.safe_load((target / "em-run.yaml").read_text())["name"] == "wrapped"
    assert em_cli("reproduce", "jobs/wrapped", str(target)).exit_code == 2  # not empty

    executed = em_cli("reproduce", str(node.pk), str(tmp_path / "third"), "--exec")
    assert executed.exit_code == 0, executed.output


@live
def test_em_run_reports_a_refused_upload(signed_in, alice, em_cli, workdir):
    result = em_cli("run", "-f", "/alice/no/such/folder", "--", sys.executable, "-c", "print(1)")
    assert result.exit_code == 1
    assert "em run: could not upload:" in result.stderr
    assert "Upload it later with: em upload .em/runs/" in result.stderr


@live
def test_reproduce_needs_a_run_recorded_by_em_run(signed_in, alice, em_cli, workdir):
    with em.create_run(name="sdk-only") as run:
        pass
    assert em_cli("upload", str(run.folder)).exit_code == 0
    result = em_cli("reproduce", "sdk-only")
    assert result.exit_code == 1
    assert "was not recorded with em run" in result.stderr

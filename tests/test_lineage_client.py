"""Lineage from the client side against a live server: bundles laid out as the T9k SDK writes them keep
their edges, the SDK marks versions (at once in live mode), and `em lineage` draws the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import em
from accounts import services as account_services
from em.access import Level
from em.client import config
from em.client.associations import candidates, reference
from em.models import LineageEdge, Node
from em.services import sharing
from tests.assethub_helpers import commit, create
from tests.factories import folder, root
from tests.run_helpers import make_run

live = pytest.mark.django_db(transaction=True)
pytestmark = pytest.mark.usefixtures("workdir", "private_storage")


def write_yaml(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def t9k_bundle(base: Path) -> Path:
    """A run and its input artifact as the t9k SDK leaves them: `localDir` relative to `base`, the working
    directory the run was recorded in, not to the run folder."""
    artifact = base / ".em" / "artifacts" / "digits_260301_101519_abc123"
    write_yaml(
        artifact / "metadata.yaml",
        {
            "kind": "Artifact",
            "name": "digits",
            "labels": [],
            "description": "",
            "createdTimestamp": "2026-03-01T10:15:19.008778+08:00",
            "alternativeName": artifact.name,
            "remote": [],
        },
    )
    (artifact / "digits.csv").write_text("x,y\n1,2\n")
    run = base / ".em" / "runs" / "mnist_260301_101520_def456"
    write_yaml(
        run / "metadata.yaml",
        {
            "kind": "Run",
            "name": "mnist",
            "labels": [],
            "description": "",
            "startTimestamp": "2026-03-01T10:15:20.000000+08:00",
            "endTimestamp": "2026-03-01T10:16:20.000000+08:00",
            "status": "Complete",
            "alternativeName": run.name,
            "associations": {
                "input": [
                    {
                        "kind": "Artifact",
                        "name": "digits",
                        "alternativeName": artifact.name,
                        "localDir": f".em/artifacts/{artifact.name}",
                    }
                ],
                "output": [],
            },
            "remote": [],
        },
    )
    write_yaml(run / "index.yaml", {"hyperparameters": "hyperparameters.yaml", "metrics": {}})
    write_yaml(run / "hyperparameters.yaml", {"lr": 0.1})
    return run


def test_an_association_is_looked_for_both_ways(tmp_path: Path) -> None:
    run = t9k_bundle(tmp_path / "project")
    entry = yaml.safe_load((run / "metadata.yaml").read_text())["associations"]["input"][0]
    places = [p.resolve() for p in candidates(run, entry, cwd=tmp_path)]
    artifact = (tmp_path / "project" / ".em" / "artifacts" / entry["alternativeName"]).resolve()
    assert places[0] == (run / entry["localDir"]).resolve()  # our SDK's spelling first
    assert places[1] == artifact  # then t9k's: relative to the `.em` folder's parent
    assert reference({"id": "abc", "path": "/alice/x", "ref": "v1"}) == "abc:v1"
    assert reference("/alice/m:v1") == "/alice/m:v1"
    assert reference({"kind": "Artifact", "localDir": "x"}) is None


@live
def test_a_t9k_bundle_keeps_its_lineage_from_any_working_directory(signed_in, alice, em_cli, workdir, tmp_path):
    run = t9k_bundle(tmp_path / "recorded-here")
    result = em_cli("upload", str(run), "-f", "t9k", "-m")  # the working directory is elsewhere
    assert result.exit_code == 0, result.output
    assert "missing" not in result.output
    node = Node.objects.get(name="mnist", deleted_at__isnull=True)
    (edge,) = LineageEdge.objects.filter(run=node)
    assert (edge.direction, edge.other.kind, edge.other.name) == ("input", "Artifact", "digits")


@live
def test_sdk_marks_versions_and_the_upload_resolves_them(signed_in, alice, api, em_cli, workdir):
    client = api(alice)
    dataset = create(client, "mnist", kind="Dataset")
    first = commit(client, dataset["id"], {"rows.csv": b"x\n1\n"})
    model = create(client, "cnn")
    with em.create_run(name="train") as run:
        run.mark_input(f"{dataset['path']}:{first['id'][:8]}")
        run.mark_output(model["path"] + ":main")  # main has no commit yet: the upload is refused
        run.mark_output({"id": model["id"], "path": model["path"]})
    refused = em_cli("upload", str(run.folder), "-f", "exp", "-m")
    assert refused.exit_code == 1
    assert "no commits yet" in refused.stderr
    made = commit(client, model["id"], {"w.bin": b"\x00"})
    result = em_cli("upload", str(run.folder), "-f", "exp", "-m")
    assert result.exit_code == 0, result.output
    edges = set(LineageEdge.objects.filter(run__name="train").values_list("direction", "other__name", "version"))
    assert edges == {("input", "mnist", first["id"]), ("output", "cnn", made["id"])}
    with pytest.raises(TypeError):
        run.mark_input(42)  # type: ignore[arg-type]


@live
def test_a_live_run_records_its_lineage_at_once(signed_in, alice, api):
    client = api(alice)
    dataset = create(client, "mnist", kind="Dataset")
    first = commit(client, dataset["id"], {"rows.csv": b"x\n1\n"})
    folder(root(alice), "live")
    with em.create_run(name="streamed", folder="live", live=True) as run:
        assert run.remote_id is not None
        run.mark_input(dataset["path"])
        (edge,) = LineageEdge.objects.filter(run_id=run.remote_id)
        assert (edge.other.name, edge.version) == ("mnist", first["id"])


@live
def test_em_lineage_draws_the_graph_as_a_tree(signed_in, alice, bob, api, em_cli):
    client = api(alice)
    dataset = create(client, "mnist", kind="Dataset")
    commit(client, dataset["id"], {"rows.csv": b"x\n1\n"}, message="first rows")
    assert client.post(f"/api/v1/assets/{dataset['id']}/tags", {"name": "v1"}, format="json").status_code == 201
    model = create(client, "cnn")
    commit(client, model["id"], {"w.bin": b"\x00"}, message="trained")
    exp = folder(root(alice), "exp")
    train = make_run(exp, "train-1").node
    answer = client.post(
        f"/api/v1/runs/{train.pk}/lineage",
        {"input": [f"{dataset['path']}:v1"], "output": [model["path"]]},
        format="json",
    )
    assert answer.status_code == 201, answer.content

    result = em_cli("lineage", f"{model['path']}:main", "--depth", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Model {model['path']} @ ")
    assert "from" in lines[1]
    assert "Run /alice/exp/train-1" in lines[2]
    assert f"Dataset {dataset['path']} @ " in lines[3] and "(v1)" in lines[3] and "first rows" in lines[3]
    assert result.stderr == ""

    relative = em_cli("lineage", "exp/train-1", "-d", "1")
    assert relative.exit_code == 0, relative.output
    assert "to" in relative.stdout and "Model" in relative.stdout and "Dataset" in relative.stdout

    sharing.share(node=exp, to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    bob_key = account_services.create_key(user=bob, name="lineage")[1]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(config.API_KEY_ENV, bob_key)
        as_bob = em_cli("lineage", str(train.pk))
        hidden = em_cli("lineage", f"{model['path']}:main")
    assert as_bob.exit_code == 0, as_bob.output
    assert "mnist" not in as_bob.stdout and "cnn" not in as_bob.stdout
    assert "2 neighbour(s) you may not view are left out" in as_bob.stderr
    assert hidden.exit_code == 1
    assert "Nothing found" in hidden.stderr

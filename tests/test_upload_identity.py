"""`em upload` of a whole `.em` folder, idempotent by the bundle's own identity, and of plain folders.

End to end against a live server with the real SDK writing the bundles: the server records each bundle's
`alternativeName` on the node it makes, so uploading again skips what is there, `-c skip` never takes a
different run with the same display name for it, and the user's files are never written to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import em
from em.models import Kind, LineageEdge, Node
from em.services import uploads
from tests.factories import folder, root

live = pytest.mark.django_db(transaction=True)
pytestmark = pytest.mark.usefixtures("workdir")


def snapshot(top: Path) -> dict[str, bytes]:
    return {p.relative_to(top).as_posix(): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}


def live_nodes(**filters: Any) -> Any:
    return Node.objects.filter(deleted_at__isnull=True, **filters)


@live
def test_upload_of_an_em_folder_sends_artifacts_and_runs_once_and_writes_nothing_locally(
    signed_in, alice, em_cli, workdir
):
    data = em.create_artifact("digits")
    Path("digits.csv").write_text("x,y\n1,2\n")
    data.add_file("digits.csv")
    em.create_artifact("unused-weights")
    with em.create_run(name="train") as run:
        run.mark_input(data)
        run.log("train", {"loss": 0.5}, step=1)
    before = snapshot(workdir / ".em")

    first = em_cli("upload", ".em", "-f", "proj", "-m")
    assert first.exit_code == 0, first.output
    assert first.stdout.count("Uploaded ") == 3
    assert snapshot(workdir / ".em") == before  # no marker written into the user's bundles
    assert live_nodes(kind=Kind.ARTIFACT, parent__name="proj").count() == 2
    train = live_nodes(kind=Kind.RUN, name="train").get()
    assert train.bundle_id == run.folder.name
    assert LineageEdge.objects.filter(run=train, other__name="digits", direction="input").exists()

    again = em_cli("upload", ".em", "-f", "proj")
    assert again.exit_code == 0, again.output
    assert again.stdout.count("Skipped ") == 3
    assert live_nodes(parent__name="proj").count() == 3
    assert snapshot(workdir / ".em") == before

    replaced = em_cli("upload", ".em", "-f", "proj", "-c", "replace")
    assert replaced.exit_code == 0, replaced.output
    assert live_nodes(parent__name="proj").count() == 3
    trashed = Node.objects.filter(kind=Kind.ARTIFACT, deleted_at__isnull=False, trashed=True)
    assert trashed.count() == 2  # each artifact replaced once, not again for the run that used it
    train = live_nodes(kind=Kind.RUN, name="train").get()
    digits = live_nodes(kind=Kind.ARTIFACT, name="digits").get()
    assert LineageEdge.objects.filter(run=train, other=digits, direction="input").exists()


@live
def test_skip_never_skips_a_different_run_that_has_the_same_name(signed_in, alice, em_cli, workdir):
    folder(root(alice), "proj")
    with em.create_run(name="same") as one:
        one.log("train", {"loss": 1.0}, step=1)
    with em.create_run(name="same") as two:
        two.log("train", {"loss": 2.0}, step=1)
    assert one.folder.name != two.folder.name

    first = em_cli("upload", str(one.folder), "-f", "proj", "-c", "skip")
    assert first.exit_code == 0, first.output
    second = em_cli("upload", str(two.folder), "-f", "proj", "-c", "skip")
    assert second.exit_code == 0, second.output
    assert "Uploaded " in second.stdout  # a different bundle: not skipped for its name
    runs = live_nodes(kind=Kind.RUN, parent__name="proj")
    assert sorted(runs.values_list("bundle_id", flat=True)) == sorted([one.folder.name, two.folder.name])

    again = em_cli("upload", ".em/runs", "-f", "proj", "-c", "skip")
    assert again.stdout.count("Skipped ") == 2
    assert runs.count() == 2

    first_node = runs.get(bundle_id=one.folder.name)
    replaced = em_cli("upload", str(two.folder), "-f", "proj", "-c", "replace")
    assert replaced.exit_code == 0, replaced.output
    assert runs.count() == 2
    assert runs.filter(pk=first_node.pk, name="same").exists()  # never replaced for sharing a name
    assert runs.filter(bundle_id=two.folder.name).count() == 1


@live
def test_replace_sends_the_same_bundle_again(signed_in, alice, em_cli, workdir):
    with em.create_run(name="redo") as run:
        run.log("train", {"loss": 1.0}, step=1)
    assert em_cli("upload", str(run.folder), "-f", "proj", "-m").exit_code == 0
    first = live_nodes(name="redo").get()
    replaced = em_cli("upload", str(run.folder), "-f", "proj", "-c", "replace")
    assert replaced.exit_code == 0, replaced.output
    now = live_nodes(name="redo").get()
    assert now.pk != first.pk and now.bundle_id == run.folder.name


@live
def test_a_plain_folder_uploads_as_an_artifact_named_after_it(signed_in, alice, em_cli, workdir):
    weights = workdir / "weights"
    (weights / "layers").mkdir(parents=True)
    (weights / "model.bin").write_bytes(b"\x00\x01" * 100)
    (weights / "layers" / "one.txt").write_text("one")
    before = snapshot(weights)

    result = em_cli("upload", "-a", str(weights), "-f", "arts", "-m")
    assert result.exit_code == 0, result.output
    artifact = live_nodes(kind=Kind.ARTIFACT, name="weights").get()
    assert artifact.parent.name == "arts"
    assert sorted(artifact.manifest.entries.values_list("path", "size")) == [("layers/one.txt", 3), ("model.bin", 200)]
    assert snapshot(weights) == before  # no metadata.yaml made in the user's folder


@pytest.mark.django_db
def test_the_server_skips_a_bundle_it_has_by_identity_not_by_name(alice, private_storage):
    parent = folder(root(alice), "proj")
    files: list[dict[str, Any]] = []

    def start(identity: str, strategy: str) -> uploads.Started:
        return uploads.start_upload(
            by=alice,
            kind=Kind.RUN,
            parent=parent,
            name="same",
            files=files,
            conflict_strategy=strategy,
            metadata={"alternativeName": identity},
        )

    def commit(started: uploads.Started) -> Node:
        assert started.upload is not None
        return uploads.commit_upload(upload_id=started.upload.pk, by=alice).node

    made = commit(start("same_260301_101500_aaaaaa", "new"))
    assert start("same_260301_101500_aaaaaa", "new").skipped == made
    assert start("same_260301_101500_aaaaaa", "error").skipped == made
    other = start("same_260301_101501_bbbbbb", "skip")
    assert other.skipped is None
    second = commit(other)
    assert second.pk != made.pk and second.name != "same"
    assert start("same_260301_101500_aaaaaa", "replace").skipped is None

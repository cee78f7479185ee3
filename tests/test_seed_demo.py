"""`manage.py seed_demo`: real runs recorded through the SDK and its uploader, a shared folder, idempotent.

The command serves this process's app on a free port and talks to it over HTTP, as `make run` does on a
fresh clone; the test database must therefore be committed (transactional_db). How long seeding takes is
`make run`'s concern and is printed by the command, not asserted here (a loaded machine is not a slow one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from em import access
from em.access import Level
from em.models import Kind, LineageEdge, MetricSeries, Node, Run, RunStatus
from em.services import lookup

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded(private_storage: Path, workdir: Path) -> None:
    call_command("seed_demo", stdout=_Sink())


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        return


def test_seed_records_real_runs_with_train_val_test_metrics_and_lineage(seeded: None) -> None:
    runs = {run.node.name: run for run in Run.objects.filter(node__owner__username="demo").select_related("node")}
    assert set(runs) == {"mlp-h16", "mlp-h32", "mlp-h64", "mlp-h64-wd", "mlp-h64-lr5"}
    assert runs["mlp-h64-lr5"].status == RunStatus.ERROR  # the rate really diverged
    assert {r.status for name, r in runs.items() if name != "mlp-h64-lr5"} == {RunStatus.COMPLETE}
    best = runs["mlp-h64"]
    keys = set(MetricSeries.objects.filter(run=best).values_list("key", flat=True))
    assert {"train.loss", "train.accuracy", "val.loss", "val.accuracy", "test.loss", "test.accuracy"} <= keys
    val_loss = MetricSeries.objects.get(run=best, key="val.loss")
    assert val_loss.count == 30 and (val_loss.latest or 0) < (val_loss.max or 0) / 2  # it learned
    assert (MetricSeries.objects.get(run=best, key="test.accuracy").latest or 0) > 0.8  # chance is 1/3
    assert best.params.get(key="optimizer.lr").value == "1.0"
    edges = {(e.direction, e.other.name) for e in LineageEdge.objects.filter(run=best.node).select_related("other")}
    assert edges == {("input", "spirals-dataset"), ("output", "mlp-h64-weights")}
    assert Node.objects.get(pk=best.node_id).path.startswith(
        lookup.resolve(best.node.owner, "/demo/em-examples/spirals").path
    )


def test_alice_shares_a_folder_with_a_run_in_it_with_demo(seeded: None, django_user_model: Any) -> None:
    demo = django_user_model.objects.get(username="demo")
    shared = lookup.resolve(demo, "/alice/team-baselines")
    assert access.level(demo, shared) == Level.VIEW
    assert Node.objects.live().filter(parent=shared, kind=Kind.RUN, name="baseline-h8").exists()
    assert not demo.is_staff and demo.check_password("demo")


def test_seeding_again_keeps_everything_and_adds_nothing(seeded: None) -> None:
    before = sorted(Node.objects.values_list("path", flat=True))
    call_command("seed_demo", stdout=_Sink())
    assert sorted(Node.objects.values_list("path", flat=True)) == before


def test_seeding_again_records_only_the_runs_that_went_missing(seeded: None) -> None:
    gone = Node.objects.get(name="mlp-h32", kind=Kind.RUN)
    Node.objects.filter(pk=gone.pk).delete()
    call_command("seed_demo", stdout=_Sink())
    names = sorted(Node.objects.filter(kind=Kind.RUN, owner__username="demo").values_list("name", flat=True))
    assert names == ["mlp-h16", "mlp-h32", "mlp-h64", "mlp-h64-lr5", "mlp-h64-wd"]


def test_the_demo_signs_in_to_its_folders_and_alices_shared_one(seeded: None, client: Any) -> None:
    client.post("/accounts/login/", {"username": "demo", "password": "demo"})
    me = client.get("/api/v1/me").json()
    children = client.get(f"/api/v1/nodes/{me['root']['id']}/children").json()
    assert {c["name"] for c in children["results"]} == {"em-examples", "t9k-assethub", "scratch"}
    shared = client.get("/api/v1/shared-with-me").json()["results"]
    assert [s["path"] for s in shared] == ["/alice/team-baselines"]

"""A live batch locks its run, then reads which of its keys the run has series for: a batch mixing known
and new keys, and loggers racing on one run with keys new to it, land every point exactly once.

The read must come after the lock, in a statement of its own: in one statement with the lock (a LEFT JOIN
of the series), PostgreSQL reads the series as they were when the statement began, so a logger that waited
for the lock missed the series its predecessor made and broke their unique key (the race test caught it).
"""

from __future__ import annotations

import time

import pytest

from em.models import MetricSeries, Run, RunStatus
from em.runs import live
from tests.factories import folder, root
from tests.run_helpers import make_run
from tests.test_concurrency import race

pytestmark = pytest.mark.django_db


def _batch(keys: list[str], steps: list[int]) -> dict[str, live.Points]:
    body = {key: {"step": steps, "value": [float(s) for s in steps]} for key in keys}
    return live.parse_batch({"metrics": body}, now=time.time())


def test_a_batch_of_known_and_new_keys_appends_to_the_one_and_makes_the_other(alice):
    run = make_run(folder(root(alice), "exp"), "live", status=RunStatus.RUNNING)
    live.append_batch(run=run, batch=_batch(["train.loss"], [1, 2]), by=alice)
    live.append_batch(run=run, batch=_batch(["train.loss", "val.loss"], [3]), by=alice)
    counts = dict(MetricSeries.objects.filter(run=run).values_list("key", "count"))
    assert counts == {"train.loss": 3, "val.loss": 1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_loggers_racing_on_one_run_append_every_point_once(alice):
    run = make_run(folder(root(alice), "exp"), "live", status=RunStatus.RUNNING)
    jobs = [
        lambda i=i: live.append_batch(
            run=Run.objects.get(pk=run.pk), batch=_batch(["train.loss", f"train.m{i % 2}"], [i]), by=alice
        )
        for i in range(8)
    ]
    results = race(*jobs)
    assert not [r for r in results if isinstance(r, Exception)], results
    counts = dict(MetricSeries.objects.filter(run=run).values_list("key", "count"))
    assert counts == {"train.loss": 8, "train.m0": 4, "train.m1": 4}

"""A live run's node, run row and params are inserted together (`insert_row(then=...)`: one statement on
PostgreSQL, three on SQLite), and a live batch's new series with their chunks (`chunk_io.insert_series`
on PostgreSQL): what lands, and what a taken name or path leaves behind, is the same on both databases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from em import errors
from em.models import MetricChunk, MetricSeries, Node, Param, Run
from em.runs import live, services
from tests.factories import folder, root
from tests.test_concurrency import assert_is_a_tree
from tests.test_node_insert import offer_a_taken_path_first

pytestmark = pytest.mark.django_db

HPARAMS = {"lr": 0.1, "model": {"depth": 12, "act": "gelu"}, "tags": ["a", "b"], "long": "x" * 300}


def test_a_live_runs_params_read_back_their_ids_and_prefixes_as_stored(alice):
    run = services.create_live_run(parent=root(alice), name="live", by=alice, hparams=HPARAMS)
    stored = {p.key: (p.pk, p.value, p.number, p.prefix) for p in Param.objects.filter(run_id=run.pk)}
    made = {p.key: (p.pk, p.value, p.number, p.prefix) for p in run.params.all()}
    assert made == stored and len(made) == 5
    assert [p.key for p in run.params.all()] == sorted(made)
    assert all(not p._state.adding for p in run.params.all())
    assert run.node.run is run and Run.objects.get(pk=run.pk).hyperparameters == HPARAMS


def test_a_live_run_without_params_lands_whole(alice):
    run = services.create_live_run(parent=root(alice), name="bare", by=alice)
    assert Run.objects.filter(pk=run.pk).exists() and not Param.objects.filter(run_id=run.pk).exists()
    assert list(run.params.all()) == []


def test_a_taken_name_lands_no_run_and_no_params(alice):
    parent = folder(root(alice), "exp")
    first = services.create_live_run(parent=parent, name="taken", by=alice, hparams=HPARAMS)
    with pytest.raises(errors.NameClash):
        services.create_live_run(parent=parent, name="taken", by=alice, hparams={"other": 1})
    assert list(Node.objects.filter(parent=parent).values_list("pk", flat=True)) == [first.pk]
    assert Run.objects.count() == 1 and set(Param.objects.values_list("run_id", flat=True)) == {first.pk}


def test_a_live_run_on_a_taken_path_lands_whole_further_on(alice, monkeypatch: pytest.MonkeyPatch):
    """The first position offered is taken: nothing of the run lands there, all of it lands on the next."""
    parent = folder(root(alice), "sweep")
    first = folder(parent, "first", by=alice)
    offered = offer_a_taken_path_first(monkeypatch, first)
    run = services.create_live_run(parent=parent, name="second", by=alice, hparams={"lr": 0.5})
    assert len(offered) == 2 and run.node.path == offered[1] != first.path
    assert Node.objects.get(pk=run.pk).path == run.node.path
    assert list(Param.objects.filter(run_id=run.pk).values_list("key", "value")) == [("lr", "0.5")]
    assert Run.objects.count() == 1
    assert_is_a_tree()


def test_a_bad_param_key_lands_nothing(alice):
    with pytest.raises(errors.InvalidInput, match="at most"):
        services.create_live_run(parent=root(alice), name="bad", by=alice, hparams={"k" * 501: 1})
    assert not Node.objects.filter(name="bad").exists() and not Run.objects.exists()


def test_new_series_of_a_live_batch_land_with_their_chunks_and_ids(alice):
    run = services.create_live_run(parent=root(alice), name="live", by=alice)
    batch = live.parse_batch(
        {
            "metrics": {
                "train.loss": {"step": [1, 2, 3], "value": [0.5, float("nan"), 0.25]},
                "val.acc": {"step": [7], "value": [0.9], "epoch": [2], "timestamp": [1.7e9]},
                "test.inf": {"step": [1], "value": [float("inf")]},
            }
        },
        now=1.7e9,
    )
    with CaptureQueriesContext(connection) as ctx:
        assert live.append_batch(run=run, batch=batch, by=alice) == 5
    inserts = [q["sql"] for q in ctx.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == (1 if connection.vendor == "postgresql" else 2), inserts
    series = {s.key: s for s in MetricSeries.objects.filter(run_id=run.pk)}
    assert (series["train.loss"].count, series["train.loss"].min, series["train.loss"].max) == (3, 0.25, 0.5)
    assert series["train.loss"].latest == 0.25 and series["train.loss"].latest_step == 3
    assert series["test.inf"].latest is None and series["test.inf"].min is None
    stamp = series["val.acc"].latest_timestamp
    assert stamp is not None and stamp.timestamp() == 1.7e9
    chunks = {c.series_id: c for c in MetricChunk.objects.filter(series__run_id=run.pk)}
    assert set(chunks) == {s.pk for s in series.values()}
    assert all(c.seq == 0 and len(c.steps) == 8 * c.count for c in chunks.values())
    assert (chunks[series["val.acc"].pk].first_step, chunks[series["val.acc"].pk].last_step) == (7, 7)
    again = live.parse_batch({"metrics": {"train.loss": {"step": [4], "value": [0.125]}}}, now=1.7e9)
    live.append_batch(run=run, batch=again, by=alice)
    assert MetricSeries.objects.get(pk=series["train.loss"].pk).count == 4


def test_the_query_log_names_every_statement_of_a_create_and_a_batch(alice):
    """On PostgreSQL these statements are prepared (`em.prepared.planned_cursor`), which psycopg leaves out of
    what Django's query log reads: the cursor keeps it, so none is logged as None."""
    services.create_live_run(parent=root(alice), name="warm", by=alice, hparams={"a": 1})  # prepared from here on
    with CaptureQueriesContext(connection) as ctx:
        run = services.create_live_run(parent=root(alice), name="live", by=alice, hparams={"a": 1})
        batch = live.parse_batch({"metrics": {"train.loss": {"step": [1], "value": [0.5]}}}, now=1.7e9)
        live.append_batch(run=run, batch=batch, by=alice)
    logged = [q["sql"] for q in ctx.captured_queries]
    assert all(isinstance(sql, str) and sql for sql in logged), logged
    assert any("INSERT" in sql and "em_param" in sql for sql in logged), logged


def test_a_batch_for_a_run_deleted_for_good_since_the_view_read_it_is_not_found(alice):
    """The view proved the caller's right on a run that another request then purged: the batch finds no
    run row to lock and answers 404, rather than failing deep in the append."""
    from em.access import Level, check
    from tests.run_helpers import points

    run = services.create_live_run(parent=folder(root(alice), "exp"), name="gone", by=alice, hparams={})
    proved = check(alice, run.node, Level.EDIT)
    Run.objects.filter(pk=run.pk).delete()
    with pytest.raises(errors.NotFound, match="Run not found"):
        live.append_batch(run=proved, batch={"loss": points([0.5])}, by=alice)
    assert not MetricSeries.objects.exists()

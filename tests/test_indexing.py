"""Indexing a run's bundle: Run fields, flattened params and metric series; idempotent; the Celery task."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from em import tasks
from em.models import IndexState, MetricChunk, MetricSeries, Param, Run, RunStatus, Tag
from em.runs import metrics
from em.runs.indexing import index_run
from tests.bundle_helpers import example_bundle, metric_file, replace_files, run_node
from tests.factories import root

pytestmark = pytest.mark.django_db


def snapshot(run: Run) -> dict[str, Any]:
    """Everything indexing writes, in a comparable form (ids aside)."""
    run.refresh_from_db()
    series = {
        s.key: (s.count, s.min, s.max, s.latest, s.latest_step, s.latest_timestamp)
        for s in MetricSeries.objects.filter(run=run)
    }
    chunks = sorted(
        (
            c.series.key,
            c.seq,
            c.count,
            c.first_step,
            c.last_step,
            bytes(c.steps),
            bytes(c.epochs),
            bytes(c.timestamps),
            bytes(c.values),
        )
        for c in MetricChunk.objects.filter(series__run=run).select_related("series")
    )
    params = sorted(Param.objects.filter(run=run).values_list("key", "value", "number"))
    fields = {
        f: getattr(run, f)
        for f in (
            "status",
            "started_at",
            "ended_at",
            "alternative_name",
            "source_name",
            "hyperparameters",
            "platform",
            "git",
        )
    }
    return {"fields": fields, "series": series, "chunks": chunks, "params": params}


def test_the_architecture_example_indexes_to_its_params_and_metrics(alice: Any) -> None:
    node = run_node(root(alice), "mnist", example_bundle())
    outcome = index_run(node.pk)
    assert outcome == {"node": str(node.pk), "state": "indexed", "params": 5, "series": 3, "points": 6, "errors": []}
    run = Run.objects.get(node=node)
    assert run.index_state == IndexState.INDEXED and run.index_errors == [] and run.indexed_at is not None
    assert run.status == RunStatus.COMPLETE
    assert run.started_at == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert run.ended_at == datetime(2026, 3, 1, 2, 20, 0, 500000, tzinfo=UTC)
    assert run.alternative_name == "mnist_260301_100000_a1b2c3"
    assert run.source_name == "train.py"
    assert run.platform["pypkgs"] == {"torch": "2.3.0"} and run.git["branch"] == "main"
    assert run.hyperparameters["optimizer"] == {"name": "adam", "lr": 0.01, "betas": [0.9, 0.999]}
    params = Param.objects.filter(run=run).values_list("key", "value", "number")
    assert {key: (value, number) for key, value, number in params} == {
        "lr": ("0.001", 0.001),
        "batch_size": ("64", 64.0),
        "optimizer.name": ("adam", None),
        "optimizer.lr": ("0.01", 0.01),
        "optimizer.betas": ("[0.9, 0.999]", None),  # a list stays one param
    }
    loss = MetricSeries.objects.get(run=run, key="val.loss")
    assert (loss.count, loss.min, loss.max, loss.latest, loss.latest_step) == (2, 0.25, 0.3, 0.3, 250)
    assert loss.latest_timestamp == datetime(2026, 3, 1, 2, 15, 20, 112001, tzinfo=UTC)
    accuracy = MetricSeries.objects.get(run=run, key="val.accuracy")
    assert (accuracy.count, accuracy.latest, accuracy.latest_step) == (1, 0.9, 200)
    history = metrics.read(loss)
    assert history["step"] == [200, 250] and history["epoch"] == [2, None] and history["value"] == [0.25, 0.3]
    assert MetricSeries.objects.get(run=run, key="train.loss").latest == 0.7


def test_stage_aliases_are_normalised(alice: Any) -> None:
    index = "metrics:\n  training: t.yaml\n  validation: v.yaml\n  testing: x.yaml\n  Eval2: e.yaml\n"
    one = metric_file([(1, None, {"m": 1.0})])
    files = example_bundle(**{"index.yaml": index, "t.yaml": one, "v.yaml": one, "x.yaml": one, "e.yaml": one})
    node = run_node(root(alice), "aliases", files)
    assert index_run(node.pk)["state"] == "indexed"
    keys = set(MetricSeries.objects.filter(run__node=node).values_list("key", flat=True))
    assert keys == {"train.m", "val.m", "test.m", "Eval2.m"}


def test_eval_and_validation_together_are_refused_as_the_same_stage(alice: Any) -> None:
    one = metric_file([(1, None, {"m": 1.0})])
    files = example_bundle(**{"index.yaml": "metrics:\n  eval: a.yaml\n  val: b.yaml\n", "a.yaml": one, "b.yaml": one})
    outcome = index_run(run_node(root(alice), "twice", files).pk)
    assert outcome["state"] == "failed"
    assert outcome["errors"] == [{"file": "index.yaml", "message": "metric stages 'eval' and 'val' are both 'val'"}]


def test_nested_hyperparameters_flatten_to_dotted_keys_with_numbers_only_when_finite(alice: Any) -> None:
    hparams = (
        "optimizer:\n  lr: 1.0e-3\n  momentum: .nan\n  schedule: {warmup: 5}\nname: resnet\nflag: true\nnone: null\n"
    )
    node = run_node(root(alice), "hp", example_bundle(**{"hyperparameters.yaml": hparams}))
    assert index_run(node.pk)["state"] == "indexed"
    params = dict((k, (v, n)) for k, v, n in Param.objects.filter(run__node=node).values_list("key", "value", "number"))
    assert params == {
        "optimizer.lr": ("0.001", 0.001),
        "optimizer.momentum": (".nan", None),
        "optimizer.schedule.warmup": ("5", 5.0),
        "name": ("resnet", None),
        "flag": ("true", None),
        "none": ("null", None),
    }
    assert Run.objects.get(node=node).hyperparameters["optimizer"]["momentum"] == ".nan"


def test_a_t9k_bundle_with_sorted_keys_and_no_optional_files_indexes_unchanged(alice: Any) -> None:
    """t9k.em wrote `yaml.dump` output (keys sorted), its stage names, and may leave files out."""
    train = metric_file([(s, s // 10, {"loss": 1 / (s + 1), "acc": s / 100}) for s in range(30)], sort_keys=True)
    files = {
        "metadata.yaml": b"alternativeName: t9k-run\nassociations: {input: [], output: []}\ndescription: ''\n"
        b"endTimestamp: null\nkind: Run\nlabels: []\nname: t9k-run\nremote: []\n"
        b"startTimestamp: '2023-05-04T09:00:00.123456+08:00'\nstatus: Running\n",
        "index.yaml": b"hyperparameters: hyperparameters.yaml\nmetrics:\n  training: metrics/training.yaml\n",
        "hyperparameters.yaml": b"epochs: 3\n",
        "metrics/training.yaml": train.encode(),
    }
    assert train.startswith("- sequence:\n")
    node = run_node(root(alice), "t9k", files)
    assert index_run(node.pk)["state"] == "indexed"
    run = Run.objects.get(node=node)
    # killed outright: still Running, no end
    assert (run.status, run.ended_at, run.alternative_name) == (RunStatus.RUNNING, None, "t9k-run")
    loss = MetricSeries.objects.get(run=run, key="train.loss")
    assert (loss.count, loss.latest_step, loss.latest) == (30, 29, 1 / 30)


def test_reindexing_the_same_bundle_yields_identical_rows(alice: Any) -> None:
    node = run_node(root(alice), "again", example_bundle())
    index_run(node.pk)
    run = Run.objects.get(node=node)
    first = snapshot(run)
    assert index_run(node.pk)["state"] == "indexed"
    assert snapshot(run) == first


def test_indexing_leaves_tags_and_notes_alone(alice: Any) -> None:
    node = run_node(root(alice), "tagged", example_bundle())
    index_run(node.pk)
    run = Run.objects.get(node=node)
    Tag.objects.create(run=run, key="team", value="vision")
    Run.objects.filter(pk=run.pk).update(notes="best so far")
    index_run(node.pk)
    run.refresh_from_db()
    assert run.notes == "best so far"
    assert list(Tag.objects.filter(run=run).values_list("key", "value")) == [("team", "vision")]


def test_a_new_bundle_replaces_params_and_series(alice: Any) -> None:
    node = run_node(root(alice), "replaced", example_bundle())
    index_run(node.pk)
    replace_files(node, example_bundle(**{"index.yaml": "hyperparameters: hyperparameters.yaml\nmetrics: {}\n"}))
    assert index_run(node.pk)["state"] == "indexed"
    assert not MetricSeries.objects.filter(run__node=node).exists()
    assert not MetricChunk.objects.filter(series__run__node=node).exists()
    assert Param.objects.filter(run__node=node).count() == 5


def test_the_task_indexes_and_reports_a_summary(alice: Any) -> None:
    node = run_node(root(alice), "task", example_bundle())
    result = tasks.index_run.delay(str(node.pk)).get()
    assert result["state"] == "indexed" and result["series"] == 3
    assert tasks.index_run.name == "em.tasks.index_run"
    assert tasks.index_run.acks_late


def test_the_task_for_a_run_that_is_gone_does_nothing(alice: Any) -> None:
    node = run_node(root(alice), "gone", example_bundle())
    node_id = str(node.pk)
    Run.objects.filter(node=node).delete()
    node.delete()
    assert tasks.index_run.delay(node_id).get() == {"node": node_id, "state": "gone"}


def test_index_run_is_routed_to_the_index_queue(settings: Any) -> None:
    from em.celery import app

    assert app.amqp.router.route({}, "em.tasks.index_run")["queue"].name == "index"


def test_a_bundle_from_em_run_records_its_command_and_source_type(alice: Any) -> None:
    metadata = yaml.safe_load(example_bundle()["metadata.yaml"])
    metadata.update(command="python train.py --lr 0.1", exitCode=0)
    node = run_node(root(alice), "wrapped", example_bundle(**{"metadata.yaml": yaml.safe_dump(metadata)}))
    assert index_run(node.pk)["state"] == "indexed"
    run = Run.objects.get(node=node)
    assert (run.command, run.source_type) == ("python train.py --lr 0.1", "CLI")
    sdk = run_node(root(alice), "plain", example_bundle())
    index_run(sdk.pk)
    assert Run.objects.get(node=sdk).source_type == "SDK"


def test_a_bundle_without_git_indexes(alice: Any) -> None:
    index = yaml.safe_load(example_bundle()["index.yaml"])
    del index["git"]
    node = run_node(root(alice), "nogit", example_bundle(**{"index.yaml": yaml.safe_dump(index), "git.yaml": None}))
    assert index_run(node.pk)["state"] == "indexed"
    assert Run.objects.get(node=node).git == {}


def test_bytes_missing_from_the_blob_store_fail_the_run_visibly(alice: Any) -> None:
    from django.core.files.storage import default_storage

    node = run_node(root(alice), "lost", example_bundle())
    entry = node.manifest.entries.select_related("blob").get(path="hyperparameters.yaml")
    default_storage.delete(entry.blob.storage_name)
    assert index_run(node.pk)["state"] == "failed"
    run = Run.objects.get(node=node)
    assert run.index_state == IndexState.FAILED
    assert run.index_errors[0]["file"] == "hyperparameters.yaml"
    assert "blob store could not return this file" in run.index_errors[0]["message"]

"""The data the runs benchmark measures, loaded fast while keeping the invariants the services keep.

Nodes come from bench/tree.py's `TreeBuilder` (path = parent's path + one segment, depth, owner, unique
names among siblings); they and their Run, Param and MetricSeries rows are written with PostgreSQL's COPY,
which loads the 1.6 million rows of 100,000 runs in seconds where `bulk_create` would take minutes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tree import TreeBuilder

SWEEP_PROJECTS = 10
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw")
LEARNING_RATES = (0.1, 0.03, 0.01, 0.003, 0.001)
METRIC_KEYS = ("train.loss", "train.accuracy", "val.loss", "val.accuracy", "test.accuracy")
# Three terms over two params and a metric: about 8% of the runs match, so sorting is real work.
SEARCH_FILTER = "params.optimizer = 'adam' AND params.lr < 0.01 AND metrics.val.accuracy > 0.6"
SEARCH_ORDER = "metrics.val.accuracy DESC"
COPY_CHUNK = 10_000
NULL = "\\N"  # in COPY's text format


@dataclass
class People:
    alice: Any
    key: str  # alice's API key (write scope), in plain text
    root: Any


def make_people() -> People:
    from django.contrib.auth import get_user_model

    from accounts import services as account_services
    from em.services.nodes import root_of

    alice = get_user_model().objects.create_user("alice", password=None)  # the signal makes her root
    _, raw = account_services.create_key(user=alice, name="bench")
    return People(alice, raw, root_of(alice))


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_TEXT: dict[type, Callable[[Any], str]] = {
    str: lambda v: v.translate(_ESCAPES),
    type(None): lambda v: NULL,
    bool: lambda v: "t" if v else "f",
    datetime: datetime.isoformat,
}


def _text(value: Any) -> str:
    """A value in COPY's text format (numbers and UUIDs as `str` writes them)."""
    return _TEXT.get(type(value), str)(value)


def copy_lines(table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """COPY rows already in COPY's text format into `table`, on Django's connection (and transaction).

    They are sent in large pieces: psycopg's per-row `write_row` would spend more time than the server
    does storing them.
    """
    from django.db import connection

    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) == COPY_CHUNK:
                copy.write("\n".join(chunk) + "\n")
                chunk.clear()
        if chunk:
            copy.write("\n".join(chunk) + "\n")


def _json(value: Any) -> str:
    return ("[]" if isinstance(value, list) else "{}") if value in ([], {}) else json.dumps(value)


class Columns:
    """A model's concrete columns and their defaults: COPY rows from instances or from a few values."""

    def __init__(self, model: Any) -> None:
        from django.db.models import JSONField

        self.table = model._meta.db_table
        fields = model._meta.concrete_fields
        self.names = [f.column for f in fields]
        self.attnames = [f.attname for f in fields]
        self.json = [isinstance(f, JSONField) for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}

    def of(self, source: Any = None, **values: Any) -> str:
        """The row of model instance `source`, or of `values` over the fields' defaults, as COPY text."""
        merged = vars(source) if source is not None else self.defaults | values
        return "\t".join(
            _json(merged[a]) if j else _text(merged[a]) for a, j in zip(self.attnames, self.json, strict=True)
        )

    def copy(self, lines: Iterable[str]) -> None:
        copy_lines(self.table, self.names, lines)


def live_run(people: People, parent: Any, name: str) -> Any:
    """A Running run made by the real service (what `POST /api/v1/runs` makes), for series and live logging."""
    from em.runs.services import create_live_run

    return create_live_run(parent=parent, name=name, by=people.alice).node


def folder(people: People, parent: Any, name: str) -> Any:
    from em.models import Kind
    from em.services.nodes import create_node

    return create_node(parent=parent, name=name, kind=Kind.FOLDER, by=people.alice)


def hyperparameters(rng: random.Random, seed: int) -> dict[str, Any]:
    return {
        "lr": rng.choice(LEARNING_RATES),
        "optimizer": rng.choice(OPTIMIZERS),
        "batch_size": rng.choice((32, 64, 128, 256)),
        "epochs": rng.choice((10, 20, 50)),
        "model": {"depth": rng.randint(2, 12), "width": rng.choice((128, 256, 512)), "dropout": rng.random() / 2},
        "seed": seed,
        "weight_decay": rng.choice((0.0, 0.0001, 0.001)),
        "scheduler": rng.choice(("cosine", "step", "none")),
    }


def metric_summaries(rng: random.Random) -> dict[str, tuple[float, float, float]]:
    """(min, max, latest) of each metric of a finished run."""
    accuracy = 0.5 + rng.random() * 0.45
    loss = 2.5 * (1 - accuracy) + rng.random() * 0.1
    out = {}
    for key, latest in zip(METRIC_KEYS, (loss * 0.8, accuracy + 0.03, loss, accuracy, accuracy - 0.01), strict=True):
        low, high = (latest, 2.5) if key.endswith("loss") else (0.1, latest)
        out[key] = (low, high, latest)
    return out


def build_sweep(people: People, runs: int, seed: int = 7) -> Any:
    """/alice/sweep/pNN/rNNNNN: `runs` finished runs in SWEEP_PROJECTS folders, ~10 params, 5 metrics each."""
    from django.db import connection, transaction

    from em.models import IndexState, MetricSeries, Node, Param, Run, RunStatus
    from em.models.nodes import Kind
    from em.runs.services import flatten

    rng = random.Random(seed)
    builder = TreeBuilder(people.alice.pk)
    sweep = builder.add(people.root, "sweep", Kind.FOLDER)
    per_project = -(-runs // SWEEP_PROJECTS)
    run_columns = Columns(Run)
    run_rows, params, series = [], [], []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(runs):
        if number % per_project == 0:
            project = builder.add(sweep, f"p{number // per_project + 1:02d}", Kind.FOLDER)
        node = builder.add(project, f"r{number % per_project + 1:05d}", Kind.RUN)
        hparams = hyperparameters(rng, number)
        started = start + timedelta(minutes=number)
        run_rows.append(
            run_columns.of(
                node_id=node.id,
                status=RunStatus.COMPLETE,
                started_at=started,
                ended_at=started + timedelta(seconds=rng.randint(60, 36_000)),
                source_type="SDK",
                source_name="train.py",
                command="python train.py",
                hyperparameters=hparams,
                index_state=IndexState.INDEXED,
                indexed_at=builder.now,
            )
        )
        # The keys and values come from hyperparameters() and METRIC_KEYS: nothing in them needs escaping.
        for key, value in flatten(hparams):  # text and number as em.runs.services.param_rows makes them
            text, number = (value, NULL) if isinstance(value, str) else (json.dumps(value), float(value))
            params.append(f"{node.id}\t{key}\t{text}\t{number}")
        ended = (started + timedelta(hours=1)).isoformat()
        for key, (low, high, latest) in metric_summaries(rng).items():
            series.append(f"{node.id}\t{key}\t1000\t{low}\t{high}\t{latest}\t999\t{ended}")
    node_columns = Columns(Node)
    with transaction.atomic():
        node_columns.copy(node_columns.of(node) for node in builder.rows)
        run_columns.copy(run_rows)
        copy_lines(Param._meta.db_table, ("run_id", "key", "value", "number"), params)
        copy_lines(
            MetricSeries._meta.db_table,
            ("run_id", "key", "count", "min", "max", "latest", "latest_step", "latest_timestamp"),
            series,
        )
    with connection.cursor() as cursor:  # what autovacuum does soon after a bulk load
        cursor.execute("VACUUM ANALYZE")
    return Node.objects.get(pk=sweep.id)


def sweep_project(sweep: Any, number: int) -> Any:
    from em.models import Node

    return Node.objects.get(parent=sweep, name=f"p{number:02d}")


def load_runs(people: People, parent: Any, specs: Sequence[tuple[str, dict[str, Any], dict[str, float]]]) -> None:
    """Finished runs in `parent`, one per (name, hyper-parameters, latest metric values), COPY-loaded the way
    `build_sweep` loads its runs: what `--vs-mlflow` searches, the same rows on both sides."""
    from django.db import connection, transaction

    from em.models import IndexState, MetricSeries, Node, Param, Run, RunStatus
    from em.models.nodes import Kind
    from em.runs.services import flatten

    builder = TreeBuilder(people.alice.pk)
    builder.last_child[parent.path] = Node.objects.filter(parent=parent).count()
    run_columns = Columns(Run)
    run_rows, params, series = [], [], []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for number, (name, hparams, final) in enumerate(specs):
        node = builder.add(parent, name, Kind.RUN)
        started = start + timedelta(minutes=number)
        run_rows.append(
            run_columns.of(
                node_id=node.id,
                status=RunStatus.COMPLETE,
                started_at=started,
                ended_at=started + timedelta(hours=1),
                source_type="SDK",
                hyperparameters=hparams,
                index_state=IndexState.INDEXED,
                indexed_at=builder.now,
            )
        )
        for key, value in flatten(hparams):  # text and number as em.runs.services.param_rows makes them
            text, number_value = (value, NULL) if isinstance(value, str) else (json.dumps(value), float(value))
            params.append(f"{node.id}\t{key}\t{text}\t{number_value}")
        ended = (started + timedelta(hours=1)).isoformat()
        for key, latest in final.items():
            series.append(f"{node.id}\t{key}\t1\t{latest}\t{latest}\t{latest}\t999\t{ended}")
    node_columns = Columns(Node)
    with transaction.atomic():
        node_columns.copy(node_columns.of(node) for node in builder.rows)
        run_columns.copy(run_rows)
        copy_lines(Param._meta.db_table, ("run_id", "key", "value", "number"), params)
        copy_lines(
            MetricSeries._meta.db_table,
            ("run_id", "key", "count", "min", "max", "latest", "latest_step", "latest_timestamp"),
            series,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

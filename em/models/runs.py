"""Runs: what a training run recorded, indexed from its bundle so it can be searched and charted.

A `Run` is the detail of a `Node` of kind Run. Its hyper-parameters are flattened to dotted keys
(`Param`), each metric is a columnar series (`MetricSeries` with its summary, `MetricChunk` with packed
arrays — never a row per point), tags are editable key/values, and lineage edges tie the run to the
artifacts, models and datasets it used and produced.

A foreign key whose table has a unique constraint leading with it (`(run, key)`, `(series, seq)`) gets
no index of its own (`db_index=False`): that constraint's index serves lookups by the key alone, and a
second one would only be written on every insert, ten params, five series and five chunks a run
created (tests/test_indexes.py holds every model of ours to this).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models.functions import Left

from .nodes import Node

# Text params and tags are indexed (and searched) by their first TEXT_PREFIX characters: a btree entry
# must stay under ~2.7 kB on PostgreSQL, and a value can be any length (em/search/compiler.py).
TEXT_PREFIX = 100


def _prefix() -> models.GeneratedField:
    """A param's or tag's first TEXT_PREFIX characters, stored by the database as `value` is written.

    A stored column, not an index on the expression `left(value, 100)`, so that its (key, prefix)
    index with `run_id` alongside answers a search term by an index-only scan: PostgreSQL reads a row's
    `value` from the table to recheck an expression index, ~900 pages for 2,500 matches of 100,000."""
    return models.GeneratedField(
        expression=Left("value", TEXT_PREFIX), output_field=models.TextField(), db_persist=True
    )


def _run_node(related_name: str) -> models.ForeignObject:
    """The run's node, read through `run_id` (a run's key is its node's): no column, no constraint.

    Run search starts from `Node` and orders by a metric, param or tag through `FilteredRelation` on the
    reverse of this (`em.search.compiler.order_runs`), which joins the table to `em_node` directly; the
    path through `Run` joined `em_run` as well, a relation more for PostgreSQL's planner to order
    (planning the three-term search took 3.5 ms instead of 1.4) and 500 probes more to execute."""
    return models.ForeignObject(
        Node,
        on_delete=models.DO_NOTHING,
        from_fields=["run"],
        to_fields=["id"],
        related_name=related_name,
        editable=False,
    )


class RunStatus(models.TextChoices):
    RUNNING = "Running"
    COMPLETE = "Complete"
    ERROR = "Error"
    KILLED = "Killed"


class IndexState(models.TextChoices):
    PENDING = "pending"
    INDEXED = "indexed"
    FAILED = "failed"


class Run(models.Model):
    node = models.OneToOneField(Node, primary_key=True, on_delete=models.CASCADE, related_name="run")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    alternative_name = models.CharField(max_length=255, blank=True, default="")
    source_type = models.CharField(max_length=16, blank=True, default="", help_text="SDK, CLI or UPLOAD.")
    source_name = models.CharField(max_length=1024, blank=True, default="", help_text="The entry script.")
    command = models.TextField(blank=True, default="")
    hyperparameters = models.JSONField(default=dict, blank=True, help_text="As written, nested.")
    platform = models.JSONField(default=dict, blank=True)
    git = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True, default="")
    index_state = models.CharField(max_length=16, choices=IndexState.choices, default=IndexState.PENDING)
    index_errors = models.JSONField(default=list, blank=True, help_text="[{file, message}] of the last indexing.")
    indexed_at = models.DateTimeField(null=True, blank=True)
    # The outbox of indexing: a pending run is enqueued again by a sweep (em.services.index_outbox.requeue).
    index_requested_at = models.DateTimeField(null=True, blank=True, help_text="When indexing was last enqueued.")
    index_requests = models.PositiveIntegerField(default=0, help_text="How many times indexing was enqueued.")

    class Meta:
        indexes = [
            models.Index(fields=["status"], name="em_run_status"),
            models.Index(fields=["started_at"], name="em_run_started"),
            models.Index(
                fields=["index_requested_at"], condition=models.Q(index_state="pending"), name="em_run_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.node_id} ({self.status})"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


class Param(models.Model):
    """One flattened hyper-parameter: text as written, and the number when it is one."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="params", db_index=False)
    key = models.CharField(max_length=500)
    value = models.TextField()
    number = models.FloatField(null=True, blank=True)
    prefix = _prefix()
    node = _run_node("run_params")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="em_param_run_key_unique")]
        # `run_id` rides along so a search term is an index-only scan yielding run ids.
        indexes = [
            models.Index(fields=["key", "number"], include=["run_id"], name="em_param_key_number"),
            models.Index(fields=["key", "prefix"], include=["run_id"], name="em_param_key_prefix"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class MetricSeries(models.Model):
    """A metric's history for one run (`<stage>.<name>`, e.g. `val.loss`) and its summary for search."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics", db_index=False)
    key = models.CharField(max_length=500)
    count = models.BigIntegerField(default=0)
    min = models.FloatField(null=True, blank=True)
    max = models.FloatField(null=True, blank=True)
    latest = models.FloatField(null=True, blank=True)
    latest_step = models.BigIntegerField(null=True, blank=True)
    latest_timestamp = models.DateTimeField(null=True, blank=True)
    node = _run_node("run_metrics")

    class Meta:
        verbose_name_plural = "metric series"
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="em_metric_run_key_unique")]
        indexes = [
            models.Index(fields=["key", "latest"], include=["run_id"], name="em_metric_key_latest"),
            models.Index(fields=["key", "min"], include=["run_id"], name="em_metric_key_min"),
            models.Index(fields=["key", "max"], include=["run_id"], name="em_metric_key_max"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.count} points)"


class MetricChunk(models.Model):
    """Up to ~10,000 consecutive points of a series as little-endian packed arrays.

    `steps` and `epochs` are int64 (an epoch of -2**63 means none), `timestamps` float64 seconds since
    the epoch, `values` float64. `first_step`/`last_step` let a ranged read skip whole chunks.
    `overview` summarises the points in sub-buckets, at three levels of detail behind a header holding the
    chunk's end points (em/runs/overview.py), so a sampled history never reads the arrays.
    """

    series = models.ForeignKey(MetricSeries, on_delete=models.CASCADE, related_name="chunks", db_index=False)
    seq = models.PositiveIntegerField()
    count = models.PositiveIntegerField()
    first_step = models.BigIntegerField()
    last_step = models.BigIntegerField()
    steps = models.BinaryField()
    epochs = models.BinaryField()
    timestamps = models.BinaryField()
    values = models.BinaryField()
    overview = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "seq"], name="em_chunk_series_seq_unique")]

    def __str__(self) -> str:
        return f"chunk {self.seq} of {self.series_id} ({self.count} points)"


class Tag(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tags", db_index=False)
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True, default="")
    prefix = _prefix()
    node = _run_node("run_tags")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="em_tag_run_key_unique")]
        indexes = [models.Index(fields=["key", "prefix"], include=["run_id"], name="em_tag_key_prefix")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class LineageEdge(models.Model):
    """`other` was an input of `run`'s (direction input) or `run` produced it (direction output).

    When `other` is a Model or Dataset the edge is about one of its versions: `version` holds the
    commit id the reference resolved to when the edge was made (em.services.lineage.refs), and `ref` the text the
    user wrote (`v1`, `main`). It is no foreign key because em sits below the Asset Hub; it cannot dangle,
    since a version is deleted only with its asset, and the edge goes with the asset (`other`, CASCADE).
    `version` is "" for runs and artifacts.
    """

    class Direction(models.TextChoices):
        INPUT = "input"
        OUTPUT = "output"

    run = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="lineage_edges", db_index=False)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    other = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="lineage_uses")
    ref = models.CharField(max_length=255, blank=True, default="")
    version = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "direction", "other", "version"], name="em_lineage_edge_unique")
        ]

    def __str__(self) -> str:
        return f"{self.other_id} -{self.direction}-> {self.run_id}"

"""What a tracking client that logs as it goes needs of a run, beyond EM's live runs (MLflow's client).

A live run (`em.runs.services.create_live_run`) is started now and takes metric batches only while
Running; a tracking client says when its run started, logs parameters one at a time (each written once,
as MLflow has it: the same value again is fine, another value is refused), tags as it goes, metric
points with their own timestamps whatever the run's status (MLflow logs to finished runs too), and may
set the status back to Running when it resumes a run. These are those operations, over the same rows
and the same columnar series; nothing here is a second store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from em import errors, tree
from em.access import Access
from em.models import Kind, MetricSeries, Node, Param, Run, RunStatus, Tag
from em.runs import metrics
from em.runs.metrics import Points
from em.runs.services import MAX_TAG_VALUE_LENGTH, create_live_run, editable, param_rows, validate_tag_key
from em.services.nodes import update_node
from em.services.trash import free_name
from em.services.validation import check_text, validate_name

MAX_PARAM_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000  # MLflow's limit
MAX_METRIC_KEY_LENGTH = 250


def start_run(
    *,
    parent: Node,
    name: str,
    by: Any,
    started_at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
) -> Run:
    """A Running run in `parent` (a folder, or a run for a nested run) started at `started_at`.

    Tracking clients reuse names freely where EM keeps them unique among siblings: a taken name gets
    the first free ` (n)` suffix (`em.services.trash.free_name`), and the client's own name stays in its
    tags. Tags are validated like `set_tag`'s and written in the same transaction.
    """
    wanted = validate_name(name)
    clean = {validate_tag_key(key): _tag_value(value) for key, value in (tags or {}).items()}
    with transaction.atomic():
        run = create_live_run(parent=parent, name=free_name(parent, wanted), by=by)
        if started_at is not None:
            run.started_at = started_at
            run.save(update_fields=["started_at"])
        Tag.objects.bulk_create([Tag(run=run, key=key, value=value) for key, value in clean.items()])
    return run


def _tag_value(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_TAG_VALUE_LENGTH:
        raise errors.InvalidInput(f"A tag value is text of at most {MAX_TAG_VALUE_LENGTH} characters.")
    return check_text(value, "A tag value")


def log_params(*, run: Run | Access, params: Mapping[str, str], by: Any) -> None:
    """Record parameters, each once: logging a key again with the same value changes nothing, with
    another value it is refused (naming the key and both values) and nothing of the call is written."""
    run = editable(run, by)
    for key, value in params.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_PARAM_KEY_LENGTH:
            raise errors.InvalidInput(f"A parameter key has 1 to {MAX_PARAM_KEY_LENGTH} characters.")
        if not isinstance(value, str) or len(value) > MAX_PARAM_VALUE_LENGTH:
            raise errors.InvalidInput(f"Parameter {key!r}: the value is text of at most {MAX_PARAM_VALUE_LENGTH}.")
        check_text(key, "A parameter key")
        check_text(value, "A parameter value")
    if not params:
        return
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        held = dict(Param.objects.filter(run=locked, key__in=list(params)).values_list("key", "value"))
        for key, value in params.items():
            if key in held and held[key] != value:
                raise errors.InvalidInput(
                    f"Parameter {key!r} was logged as {held[key]!r}; a parameter is written once, not changed "
                    f"to {value!r}.",
                    detail={"key": key, "old": held[key], "new": value},
                )
        fresh = {key: value for key, value in params.items() if key not in held}
        Param.objects.bulk_create(param_rows(locked, fresh))
        locked.hyperparameters = {**locked.hyperparameters, **fresh}
        locked.save(update_fields=["hyperparameters"])
    run.hyperparameters = locked.hyperparameters


def validate_metric_key(key: Any) -> str:
    """A tracking client's metric key, kept as written (no stage normalisation: the client reads back
    the key it wrote); text of at most MAX_METRIC_KEY_LENGTH characters."""
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_METRIC_KEY_LENGTH:
        raise errors.InvalidInput(f"A metric key has 1 to {MAX_METRIC_KEY_LENGTH} characters.")
    return validate_tag_key(key)


def log_points(*, run: Run | Access, batch: Mapping[str, Points], by: Any) -> int:
    """Append each key's points to its series (made on first use), whatever the run's status; returns
    how many points were stored. One transaction, the run row locked as live logging locks it, and the
    same few statements however many keys (`metrics.append_all`, `metrics.add_series`)."""
    run = editable(run, by)
    keys = [validate_metric_key(key) for key in batch]
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        existing = {series.key: series for series in MetricSeries.objects.filter(run=locked, key__in=keys)}
        metrics.append_all([(series, batch[key]) for key, series in existing.items()])
        metrics.add_series(locked, {key: points for key, points in batch.items() if key not in existing})
    return sum(len(points.values) for points in batch.values())


def log_batch(
    *, run: Run | Access, params: Mapping[str, str], tags: Mapping[str, str], points: Mapping[str, Points], by: Any
) -> None:
    """Params, tags and metric points of one call in one transaction: a refused part writes nothing."""
    with transaction.atomic():
        log_params(run=run, params=params, by=by)
        if tags:
            set_tags(run=run, tags=tags, by=by)
        if points:
            log_points(run=run, batch=points, by=by)


def set_tags(*, run: Run | Access, tags: Mapping[str, str], by: Any) -> None:
    """Add or change several tags in one transaction; each is checked before any is written."""
    run = editable(run, by)
    clean = {validate_tag_key(key): _tag_value(value) for key, value in tags.items()}
    Tag.objects.bulk_create(  # one statement, whichever of the tags exist already
        [Tag(run=run, key=key, value=value) for key, value in clean.items()],
        update_conflicts=True,
        unique_fields=["run", "key"],
        update_fields=["value"],
    )


def set_status(*, run: Run | Access, status: str, by: Any, ended_at: datetime | None = None) -> Run:
    """End a run, or (status Running) resume an ended one, as a tracking client's `update` does.

    Unlike `em.runs.services.update_run` a run may go back to Running (the client resumed it), and
    ending an ended run again only moves its end time; every change is one locked write.
    """
    run = editable(run, by)
    if status not in RunStatus.values:
        raise errors.InvalidInput(f"Unknown status {status!r}; one of {', '.join(RunStatus.values)}.")
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        end = None if status == RunStatus.RUNNING else (ended_at or locked.ended_at or timezone.now())
        if end is not None and locked.started_at is not None and end < locked.started_at:
            raise errors.InvalidInput("The end time is before the run started.")
        locked.status, locked.ended_at = status, end
        locked.save(update_fields=["status", "ended_at"])
    run.status, run.ended_at = locked.status, locked.ended_at
    return run


def rename_run(*, run: Run | Access, name: str, by: Any) -> Node:
    """Give the run's node `name`, or its first free ` (n)` form when a sibling holds it."""
    node = editable(run, by).node
    wanted = validate_name(name)
    if wanted == node.name or node.parent is None:
        return node
    return update_node(node=node, by=by, name=free_name(node.parent, wanted))


# --- reading ----------------------------------------------------------------------------------------

TRACKING_PREFETCH = (
    Prefetch("run__params", queryset=Param.objects.order_by("key")),
    Prefetch("run__metrics", queryset=MetricSeries.objects.order_by("key")),
    Prefetch("run__tags", queryset=Tag.objects.order_by("key")),
)


def runs_with_data(ids: Sequence[Any], *, trashed: bool = False) -> list[Node]:
    """The run nodes `ids` (unchecked: the caller scoped or checked them) with what a tracking client's
    run shows — params, metric summaries with their latest step and time, tags, creator, parent — in
    the order given; five queries however many runs."""
    ids = [UUID(str(pk)) for pk in ids]
    found = (
        Node.objects.filter(pk__in=ids, kind=Kind.RUN, run__isnull=False, deleted_at__isnull=not trashed)
        .select_related("run", "created_by", "owner", "parent")
        .prefetch_related(*TRACKING_PREFETCH)
        .in_bulk()
    )
    return [found[pk] for pk in ids if pk in found]


def folders_of(nodes: Iterable[Node]) -> dict[UUID, Node]:
    """The nearest folder above each node (a nested run's is its top run's folder); at most one query.

    `parent` must be loaded (`runs_with_data` does): a node whose parent is a folder costs nothing.
    """
    nodes = list(nodes)
    result = {node.pk: node.parent for node in nodes if node.parent is not None and node.parent.kind == Kind.FOLDER}
    nested = [node for node in nodes if node.pk not in result and node.parent is not None]
    if nested:
        wanted = {p for node in nested for p in tree.ancestor_paths(node.path)}
        folders = {f.path: f for f in Node.objects.filter(path__in=wanted, kind=Kind.FOLDER)}
        for node in nested:
            result[node.pk] = next(folders[p] for p in reversed(tree.ancestor_paths(node.path)) if p in folders)
    return result

"""Operations on runs: start a live run, finish it, annotate it, and delete or restore many at once.

A run is a `Node` of kind Run with its `Run` row; every operation here goes through `em.access` for the
node, so the rules of the tree (404 for those who cannot see it, 403 for viewers) hold for runs too. A
run in the trash does not exist for these operations. Writes that touch more than one row run in one
transaction and check everything before writing.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from em import access, errors
from em.access import Access, Level
from em.models import IndexState, Kind, MetricSeries, Node, Param, Run, RunStatus, Tag
from em.prepared import Rows
from em.runs import metrics
from em.runs.metrics import Points
from em.services.nodes import create_node, lock_trees, root_of
from em.services.trash import restore_node
from em.services.validation import json_object

MAX_NOTES_LENGTH = 50_000
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 5_000
MAX_HPARAMS_BYTES = 1024 * 1024
MAX_PARAM_KEY_LENGTH = 500
# One bulk call moves at most this many runs (MLflow's limit); call again for the rest.
MAX_BULK_RUNS = 10_000
END_STATES = (RunStatus.COMPLETE, RunStatus.ERROR, RunStatus.KILLED)


def get_run(user: Any, run_id: UUID | str, *, need: Level = Level.VIEW) -> Run:
    """The live run `run_id` if `user` holds `need` on it: NotFound for strangers, trash and non-runs."""
    return run_of(access.get_node(user, run_id, need=need).node)


def run_of(node: Node) -> Run:
    """The run row of a run node (checked by the caller); NotFound for other kinds."""
    if node.kind != Kind.RUN:
        raise errors.NotFound("Run not found.")
    try:
        run = node.run  # loaded with the node where it asked for it (`access.load(related=...)`)
    except Run.DoesNotExist:
        raise errors.NotFound("Run not found.") from None
    run.node = node  # both ways: run.node is this node, already checked
    return run


def editable(run: Run | Access, by: Any) -> Run:
    """The run to change: an Access the view proved answers without a query; a bare Run is checked."""
    if isinstance(run, Access):
        return access.ensure(by, run, Level.EDIT).node.run  # loaded with the node by the view (`run_of`)
    access.check(by, run.node, Level.EDIT)
    return run


def visible_runs(user: Any, run_ids: Sequence[UUID], *, limit: int, prefetch: Sequence[Any] = ()) -> list[Run]:
    """The runs named, in the order given, when `user` may see every one of them.

    Two queries (plus one per `prefetch` lookup on the run nodes) whatever the number of runs. One
    invisible, missing or trashed run refuses the whole request with a 404 naming none of them, so the
    answer tells a stranger nothing about which ids exist.
    """
    ids = list(dict.fromkeys(run_ids))
    if len(ids) > limit:
        raise errors.InvalidInput(f"Ask for at most {limit} runs at a time (got {len(ids)}).")
    nodes = {
        node.pk: node
        for node in Node.objects.live()
        .filter(pk__in=ids, kind=Kind.RUN, run__isnull=False)
        .select_related("run", "owner", "created_by", "editor", "target")
        .prefetch_related(*prefetch)
    }
    levels = access.levels(user, nodes.values())
    if len(nodes) != len(ids) or any(level < Level.VIEW for level in levels.values()):
        raise errors.NotFound("One or more runs were not found.")
    return [nodes[node_id].run for node_id in ids]


def _touch(run: Run, by: Any) -> None:
    """Record who last changed the run, as every node write does."""
    Node.objects.filter(pk=run.node_id).update(editor=by, modified_at=timezone.now())


# --- live runs --------------------------------------------------------------------------------------


def flatten(mapping: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested hyper-parameters as (dotted key, leaf value); an empty mapping is a leaf of its own."""
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from flatten(value, f"{dotted}.")
        else:
            yield dotted, value


def param_rows(run: Run, hparams: dict[str, Any]) -> list[Param]:
    """`Param` rows for `hparams`: the text as written, and the number when the value is one."""
    rows = []
    for key, value in flatten(hparams):
        if len(key) > MAX_PARAM_KEY_LENGTH:
            raise errors.InvalidInput(f"Hyper-parameter keys are at most {MAX_PARAM_KEY_LENGTH} characters: {key!r}.")
        text = value if isinstance(value, str) else json.dumps(value)
        rows.append(Param(run=run, key=key, value=text, number=_number(value)))
    return rows


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _validate_hparams(hparams: Any) -> dict[str, Any]:
    return json_object(hparams, "`hparams`", MAX_HPARAMS_BYTES)


def create_live_run(
    *,
    parent: Node,
    name: str,
    by: Any,
    hparams: dict[str, Any] | None = None,
    labels: list[str] | None = None,
    description: str = "",
    points: dict[str, Points] | None = None,
    status: str = RunStatus.RUNNING,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> Run:
    """A run the SDK logs to as it trains (online mode): by default Running, started now, no files yet.

    Its node, run row and params are one statement on PostgreSQL (`create_node(then=...)`). `points`
    (parsed by `em.runs.live.parse_batch`) are its first metric points, stored in the same transaction: a
    run imported or logged after the fact arrives whole in one call, and is never seen without them. Such
    a run may also arrive ended (`status`, `started_at`, `ended_at`, checked as `update_run` checks an end).
    """
    hparams = _validate_hparams(hparams or {})
    status, started_at, ended_at = _lifetime(status, started_at, ended_at)
    params: list[Param] = []
    made: dict[str, MetricSeries] = {}

    def live_run(node: Node) -> list[Rows]:
        run = Run(
            node=node,
            status=status,
            started_at=started_at,
            ended_at=ended_at,
            source_type="SDK",
            hyperparameters=hparams,
            # Nothing to index: what a live run holds arrives through the API, not in a bundle.
            index_state=IndexState.INDEXED,
        )
        params.extend(param_rows(run, hparams))
        return [run, params]

    def first_points(node: Node) -> None:
        made.update(metrics.add_series(node.run, points or {}))

    node = create_node(
        parent=parent,
        name=name,
        kind=Kind.RUN,
        by=by,
        labels=labels,
        description=description,
        then=live_run,
        after=first_points if points else None,
    )
    run = node.run
    # What the answer shows of a run made a moment ago is known: these params and series, no tags.
    _known_relations(
        run,
        params=sorted(params, key=lambda p: p.key),
        metrics=[made[key] for key in sorted(made)],
        tags=[],
    )
    return run


def _lifetime(
    status: str, started_at: datetime | None, ended_at: datetime | None
) -> tuple[str, datetime, datetime | None]:
    """A new run's status and times: started now unless said; an end state ends now unless said, and
    only an end state has an end, no earlier than the start."""
    _refuse_unknown_status(status)
    started = started_at or timezone.now()
    if status == RunStatus.RUNNING:
        if ended_at is not None:
            raise errors.InvalidInput(ENDED_WITHOUT_STATUS)
        return status, started, None
    ended = ended_at or max(timezone.now(), started)
    _refuse_end_before_start(ended, started)
    return status, started, ended


# Said alike whether a run is made ended (`create_live_run`) or ended later (`update_run`).
ENDED_WITHOUT_STATUS = "`ended_at` is set together with the `status` that ends the run."


def _refuse_unknown_status(status: str) -> None:
    if status not in RunStatus.values:
        raise errors.InvalidInput(f"Unknown status {status!r}; one of {', '.join(RunStatus.values)}.")


def _refuse_end_before_start(ended: datetime, started: datetime | None) -> None:
    if started is not None and ended < started:
        raise errors.InvalidInput("`ended_at` is before the run started.")


def _known_relations(run: Run, **rows: list[Any]) -> None:
    """Fill the run's prefetch cache as `prefetch_related` does, with querysets already holding `rows`:
    reading them costs no query, and a queryset's other uses (filter, delete) still go to the database."""
    cache = {}
    for name, known in rows.items():
        queryset = getattr(run, name).all()  # nothing cached yet: the relation's own queryset
        queryset._result_cache = known
        queryset._prefetch_done = True
        cache[name] = queryset
    run._prefetched_objects_cache = cache  # type: ignore[attr-defined]  # Django's prefetch cache


# --- status, notes and tags ------------------------------------------------------------------------


def update_run(
    *,
    run: Run | Access,
    by: Any,
    notes: str | None = None,
    status: str | None = None,
    ended_at: datetime | None = None,
) -> Run:
    """Change the notes, or end a running run (Running → Complete, Error or Killed, and only that)."""
    run = editable(run, by)
    if notes is not None and (not isinstance(notes, str) or len(notes) > MAX_NOTES_LENGTH):
        raise errors.InvalidInput(f"Notes are text of at most {MAX_NOTES_LENGTH} characters.")
    if status is not None:
        _refuse_unknown_status(status)
    if ended_at is not None and status is None:
        raise errors.InvalidInput(ENDED_WITHOUT_STATUS)
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)  # two finishers: the second sees the first
        changed = []
        if status is not None:
            if locked.status != RunStatus.RUNNING or status == RunStatus.RUNNING:
                raise errors.Conflict(
                    f"A run goes only from Running to {', '.join(END_STATES)}; this one is {locked.status}.",
                    detail={"status": locked.status},
                )
            end = ended_at or timezone.now()
            _refuse_end_before_start(end, locked.started_at)
            run.status, run.ended_at = status, end
            changed += ["status", "ended_at"]
        if notes is not None:
            run.notes = notes
            changed.append("notes")
        if changed:
            run.save(update_fields=changed)
            _touch(run, by)
    return run


def validate_tag_key(key: Any) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_TAG_KEY_LENGTH:
        raise errors.InvalidInput(f"A tag key has 1 to {MAX_TAG_KEY_LENGTH} characters.")
    bad = next((ch for ch in key if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"}), None)
    if bad is not None:
        raise errors.InvalidInput(f"A tag key must not contain control characters (found U+{ord(bad):04X}).")
    return key


def set_tag(*, run: Run | Access, key: str, value: Any, by: Any) -> Tag:
    """Add or change a tag; allowed whatever the run's status (tags annotate finished runs too)."""
    run = editable(run, by)
    key = validate_tag_key(key)
    if not isinstance(value, str) or len(value) > MAX_TAG_VALUE_LENGTH:
        raise errors.InvalidInput(f"A tag value is text of at most {MAX_TAG_VALUE_LENGTH} characters.")
    with transaction.atomic():
        tag, _ = Tag.objects.update_or_create(run=run, key=key, defaults={"value": value})
        _touch(run, by)
    return tag


def delete_tag(*, run: Run | Access, key: str, by: Any) -> None:
    run = editable(run, by)
    with transaction.atomic():
        deleted, _ = Tag.objects.filter(run=run, key=key).delete()
        if not deleted:
            raise errors.NotFound(f"The run has no tag {key!r}.")
        _touch(run, by)


# --- bulk delete and restore -----------------------------------------------------------------------


def _millis(value: Any, name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise errors.InvalidInput(f"`{name}` is a whole number of milliseconds since 1970-01-01 UTC.")
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError) as exc:
        raise errors.InvalidInput(f"`{name}` is out of range.") from exc


def _bulk_scope(by: Any, folder: Node | None) -> Node:
    """The folder a bulk call works below: the one given, or the caller's own tree; needs edit there."""
    scope = folder or root_of(by)
    access.check(by, scope, Level.EDIT)
    return scope


def _cap(max_runs: Any) -> int:
    if max_runs is None:
        return MAX_BULK_RUNS
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or not 1 <= max_runs <= MAX_BULK_RUNS:
        raise errors.InvalidInput(f"`max_runs` is a whole number from 1 to {MAX_BULK_RUNS}.")
    return max_runs


def bulk_delete(*, by: Any, max_timestamp_millis: Any, folder: Node | None, max_runs: Any = None) -> int:
    """Move runs started at or before the time to the trash, oldest first, each as its own trash entry.

    Below `folder` (recursively), or in the caller's whole tree for `folder=None`, which has no default
    so that every caller says it; at most `max_runs` (≤ 10,000) in one transaction. A run's start is
    its `started_at`, or when it was created if it never said.
    """
    cutoff = _millis(max_timestamp_millis, "max_timestamp_millis")
    limit = _cap(max_runs)
    scope = _bulk_scope(by, folder)
    now = timezone.now()
    with transaction.atomic():
        lock_trees(scope)
        if scope.deleted_at is not None:
            raise errors.NotFound("Node not found.")
        ids = list(
            Node.objects.subtree(scope.path)
            .live()
            .filter(kind=Kind.RUN)
            .exclude(parent__kind=Kind.RUN)  # a nested run goes with the run it is in
            .annotate(start=Coalesce("run__started_at", "created_at"))
            .filter(start__lte=cutoff)
            .order_by("start", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        trashed = Node.objects.filter(pk__in=ids).update(deleted_at=now, trashed=True, editor=by, modified_at=now)
        _trash_nested(ids, now)
        return trashed


def bulk_restore(*, by: Any, min_timestamp_millis: Any, folder: Node | None, max_runs: Any = None) -> int:
    """Bring back runs deleted at or after the time (their own trash entries), at most `max_runs`.

    Only the caller's own entries (any for staff): a trashed node exists for its owner and staff alone,
    so an editor of the folder restores none of the owner's, as they could restore none one by one.
    A run whose folder is live and whose name is still free goes back in one bulk update with the
    others; the rest (folder gone, name taken meanwhile) go through `restore_node`, which moves them to
    the root or renames them exactly as a single restore would.
    """
    since = _millis(min_timestamp_millis, "min_timestamp_millis")
    limit = _cap(max_runs)
    scope = _bulk_scope(by, folder)
    with transaction.atomic():
        lock_trees(scope)
        if scope.deleted_at is not None:
            raise errors.NotFound("Node not found.")
        trashed = Node.objects.subtree(scope.path).filter(kind=Kind.RUN, trashed=True, deleted_at__gte=since)
        if not (by.is_staff or by.is_superuser):
            trashed = trashed.filter(owner=by)
        entries = list(trashed.select_related("owner").order_by("deleted_at", "pk")[:limit])
        simple, awkward = _split_restorable(entries)
        simple, awkward = _nesting_apart(simple, awkward)
        Node.objects.filter(pk__in=[node.pk for node in simple]).update(
            deleted_at=None, trashed=False, editor=by, modified_at=timezone.now()
        )
        for node in awkward:
            restore_node(node=node, by=by)
    return len(entries)


def _split_restorable(entries: list[Node]) -> tuple[list[Node], list[Node]]:
    """Trash entries that can go straight back (live folder, free name) and those that need care."""
    parent_ids = {node.parent_id for node in entries if node.parent_id is not None}
    live_parents = set(Node.objects.live().filter(pk__in=parent_ids).values_list("pk", flat=True))
    taken: set[tuple[UUID | None, str]] = set(
        Node.objects.live()
        .filter(parent_id__in=live_parents, name__in={node.name for node in entries})
        .values_list("parent_id", "name")
    )
    simple, awkward = [], []
    for node in entries:
        place = (node.parent_id, node.name)
        if node.parent_id in live_parents and place not in taken:
            taken.add(place)
            simple.append(node)
        else:
            awkward.append(node)
    return simple, awkward


def _trash_nested(ids: list[Any], now: datetime) -> None:
    """The runs nested in runs just trashed go to the trash with them, stamped with the same time as a
    trashed subtree is (em.services.trash): one query, and one update per run that holds runs (few)."""
    holders = Node.objects.filter(pk__in=Node.objects.filter(parent_id__in=ids).values("parent_id"))
    for path in holders.values_list("path", flat=True):
        Node.objects.subtree(path).live().update(deleted_at=now)


def _nesting_apart(simple: list[Node], awkward: list[Node]) -> tuple[list[Node], list[Node]]:
    """Trash entries holding nested runs go through `restore_node`, which brings their subtree back too."""
    holders = set(Node.objects.filter(parent_id__in=[node.pk for node in simple]).values_list("parent_id", flat=True))
    if not holders:
        return simple, awkward
    return [n for n in simple if n.pk not in holders], [*awkward, *(n for n in simple if n.pk in holders)]

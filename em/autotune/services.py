"""Writing searches: the indexer's bulk replace, the live API (a search created and its trials sent while
it runs), and promoting a trial to a full run.

Why live trials go through the API rather than re-commits of the bundle: a re-commit re-indexes every
trial each time (quadratic over a search), and a trial's intermediate values would appear only at its
end. One small request per trial event keeps a 2,000-trial search linear and shows values as they come.
The bundle stays the durable record: `em upload` of it indexes into the same rows (docs/autotune.md).
Services take `Node | Access` and check through `em.access.ensure`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from em import access, errors
from em.access import Access, Level
from em.models import IndexState, Kind, LineageEdge, Node, Run, RunStatus
from em.models.autotune import AutoTune, Trial, TrialParam, TrialStatus
from em.runs import metrics
from em.runs import services as run_services
from em.runs.services import flatten
from em.services.nodes import create_node
from em.services.trash import free_name

from .bundle import (
    BundleError,
    Problem,
    Profile,
    TrialData,
    apply_metrics,
    final_value,
    moment,
    points,
    profile_from,
    trial_from,
    trial_status,
)

MAX_LIVE_TRIALS = 5_000
_RUN_STATUS = {
    TrialStatus.SUCCEEDED: RunStatus.COMPLETE,
    TrialStatus.FAILED: RunStatus.ERROR,
    TrialStatus.PRUNED: RunStatus.KILLED,
    TrialStatus.CANCELED: RunStatus.KILLED,
}


def autotune_of(node: Node) -> AutoTune:
    """The AutoTune row of an AutoTune node (checked by the caller); NotFound for other kinds."""
    row = AutoTune.objects.filter(node=node).first() if node.kind == Kind.AUTOTUNE else None
    if row is None:
        raise errors.NotFound("AutoTune not found.")
    node.autotune = row
    return row


def write_profile(autotune: AutoTune, profile: Profile) -> None:
    """Copy a profile onto the row (unsaved)."""
    for field in (
        "objective_metric",
        "goal",
        "search_space",
        "tuner",
        "trainer",
        "max_trial_num",
        "trial_concurrency",
        "max_exec_seconds",
        "status",
        "started_at",
        "ended_at",
    ):
        setattr(autotune, field, getattr(profile, field))


def replace_trials(autotune: AutoTune, trials: list[TrialData]) -> None:
    """The search's trials become exactly `trials`, in a few bulk statements (the caller's transaction)."""
    Trial.objects.filter(autotune=autotune).delete()
    rows = Trial.objects.bulk_create([_trial_row(autotune, data) for data in trials], batch_size=500)
    TrialParam.objects.bulk_create(
        [param for row, data in zip(rows, trials, strict=True) for param in _param_rows(row, data.params)],
        batch_size=2_000,
    )


def _trial_row(autotune: AutoTune, data: TrialData) -> Trial:
    return Trial(
        autotune=autotune,
        number=data.number,
        status=data.status,
        params=data.params,
        value=data.value,
        started_at=data.started_at,
        ended_at=data.ended_at,
        points=len(data.steps),
        steps=data.steps.astype("<i8").tobytes(),
        values=data.values.astype("<f8").tobytes(),
    )


def _param_rows(trial: Trial, params: dict[str, Any]) -> Iterable[TrialParam]:
    for key, value in flatten(params):
        text = value if isinstance(value, str) else json.dumps(value)
        yield TrialParam(trial=trial, key=key, value=text, number=_number(value))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _checked(problem: Problem | BundleError) -> errors.InvalidInput:
    return errors.InvalidInput(str(problem), detail=getattr(problem, "problems", None))


# --- live ------------------------------------------------------------------------------------------


def create_live(*, parent: Node | Access, name: str, profile: Any, by: Any) -> AutoTune:
    """A search recorded through the API as it runs: no files yet, its rows readable at once."""
    try:
        clean = profile_from(profile or {})
    except Problem as exc:
        raise _checked(exc) from None
    with transaction.atomic():
        node = create_node(parent=parent, name=name, kind=Kind.AUTOTUNE, by=by)
        autotune = AutoTune(node=node, live=True, index_state=IndexState.INDEXED, indexed_at=timezone.now())
        write_profile(autotune, clean)
        autotune.started_at = autotune.started_at or timezone.now()
        autotune.save()
    return autotune


def update_live(*, autotune: Node | Access, by: Any, profile: Any) -> AutoTune:
    """Replace the profile of a search (its status and end time as it finishes)."""
    row = _editable(autotune, by)
    try:
        clean = profile_from(profile or {})
    except Problem as exc:
        raise _checked(exc) from None
    with transaction.atomic():
        locked = AutoTune.objects.select_for_update().get(pk=row.pk)
        started = locked.started_at
        write_profile(locked, clean)
        locked.started_at = locked.started_at or started
        locked.save()
    return locked


def add_trial(*, autotune: Node | Access, by: Any, metadata: Any, metrics_document: Any = None) -> Trial:
    """Record a trial (its `metadata.json` as a body, optionally its metrics); Conflict if its id is taken."""
    row = _editable(autotune, by)
    try:
        data = trial_from(metadata)
        apply_metrics(data, metrics_document or {})
    except Problem as exc:
        raise _checked(exc) from None
    with transaction.atomic():
        AutoTune.objects.select_for_update().get(pk=row.pk)
        if Trial.objects.filter(autotune=row, number=data.number).exists():
            raise errors.Conflict(f"Trial {data.number} exists; change it with PATCH.", detail={"id": data.number})
        if Trial.objects.filter(autotune=row).count() >= MAX_LIVE_TRIALS:
            raise errors.InvalidInput(f"A search holds at most {MAX_LIVE_TRIALS:,} trials.")
        trial = _trial_row(row, data)
        trial.save()
        TrialParam.objects.bulk_create(_param_rows(trial, data.params))
    return trial


def update_trial(
    *,
    autotune: Node | Access,
    number: int,
    by: Any,
    status: Any = None,
    end: Any = None,
    final: Any = None,
    intermediate: Any = None,
) -> Trial:
    """Append intermediate values to a trial, and set its status, end and final value when given."""
    row = _editable(autotune, by)
    try:
        new_status = trial_status(status) if status is not None else None
        ended_at = moment(end, "end")
        value = final_value(final)
        steps, values = points(intermediate or [])
    except Problem as exc:
        raise _checked(exc) from None
    with transaction.atomic():
        trial = Trial.objects.select_for_update().filter(autotune=row, number=number).first()
        if trial is None:
            raise errors.NotFound(f"Trial {number} not found.")
        if len(steps):
            if trial.points + len(steps) > 100_000:
                raise errors.InvalidInput("A trial holds at most 100,000 intermediate values.")
            trial.steps = bytes(trial.steps) + steps.tobytes()
            trial.values = bytes(trial.values) + values.tobytes()
            trial.points += len(steps)
        trial.status = new_status or trial.status
        trial.ended_at = ended_at or trial.ended_at
        trial.value = value if value is not None else trial.value
        trial.save()
    return trial


def _editable(autotune: Node | Access, by: Any) -> AutoTune:
    node = access.ensure(by, autotune, Level.EDIT).node
    row = autotune_of(node)
    if not row.live:
        raise errors.Conflict("This search was uploaded as files; upload them again to change it.")
    return row


# --- promotion -------------------------------------------------------------------------------------


def promote_trial(*, autotune: Node | Access, number: int, by: Any, name: str | None = None) -> Run:
    """A full run beside the search holding the trial's parameters, status, times and intermediate values
    (as the series of the objective metric), with a lineage edge from the search (input) to it."""
    checked = access.ensure(by, autotune, Level.VIEW)
    row = autotune_of(checked.node)
    trial = Trial.objects.filter(autotune=row, number=number).first()
    if trial is None:
        raise errors.NotFound(f"Trial {number} not found.")
    parent = checked.node.parent
    if parent is None:
        raise errors.InvalidInput("This search has no folder to hold the run.")
    with transaction.atomic():
        wanted = name or f"{checked.node.name}-trial-{trial.number}"
        run = run_services.create_live_run(parent=parent, name=free_name(parent, wanted), by=by, hparams=trial.params)
        run.status = _RUN_STATUS.get(TrialStatus(trial.status), RunStatus.RUNNING)
        run.started_at, run.ended_at = trial.started_at, trial.ended_at
        run.source_type = "AUTOTUNE"
        run.save()
        if trial.points:
            steps = np.frombuffer(bytes(trial.steps), dtype="<i8")
            stamp = (trial.ended_at or trial.started_at or timezone.now()).timestamp()
            metrics.replace(
                run,
                row.objective_metric or "objective",
                metrics.Points(
                    steps,
                    np.full(len(steps), metrics.NO_EPOCH, dtype="<i8"),
                    np.full(len(steps), stamp, dtype="<f8"),
                    np.frombuffer(bytes(trial.values), dtype="<f8"),
                ),
            )
        LineageEdge.objects.create(run=run.node, direction=LineageEdge.Direction.INPUT, other=checked.node)
    return run

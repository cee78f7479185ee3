"""Reading a search: its profile and progress, trials (filtered, sorted, paged), the best trial, one
trial's intermediate values, and the data of its three charts.

Every read takes an `Access` (or a node checked here for view), so a search is as hidden as its node.
The trials page reads one page of rows and nothing per trial; the charts read only the columns they
plot (no intermediate arrays), so a 2,000-trial search answers in a few queries.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from django.db.models import Count, QuerySet
from django.utils import timezone

from em import access, errors
from em.access import Access, Level
from em.models import Node
from em.models.autotune import AutoTune, Goal, Trial, TrialStatus

from .services import autotune_of
from .trial_filter import filter_trials, order_trials

MAX_PAGE_SIZE = 1_000
_LIST_FIELDS = ("number", "status", "params", "value", "started_at", "ended_at", "points")


def readable(user: Any, node: Node | Access) -> AutoTune:
    """The AutoTune row of a node the caller may view."""
    return autotune_of(access.ensure(user, node, Level.VIEW).node)


def summary(autotune: AutoTune) -> dict[str, Any]:
    """The profile, the indexing state, progress (counts by status, elapsed vs limit) and the best trial."""
    counts = {status: 0 for status in TrialStatus.values}
    for row in autotune.trials.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    end = autotune.ended_at or (timezone.now() if autotune.started_at else None)
    elapsed = (end - autotune.started_at).total_seconds() if autotune.started_at and end else None
    best = best_trial(autotune)
    return {
        "id": autotune.node_id,
        "profile": {
            "objective": {"metric": autotune.objective_metric, "goal": autotune.goal},
            "search_space": autotune.search_space,
            "tuner": autotune.tuner,
            "trainer": autotune.trainer,
            "max_trial_num": autotune.max_trial_num,
            "trial_concurrency": autotune.trial_concurrency,
            "max_exec_seconds": autotune.max_exec_seconds,
            "status": autotune.status,
            "started_at": autotune.started_at,
            "ended_at": autotune.ended_at,
        },
        "live": autotune.live,
        "index_state": autotune.index_state,
        "index_errors": autotune.index_errors,
        "progress": {
            "trials": sum(counts.values()),
            "by_status": counts,
            "max_trial_num": autotune.max_trial_num,
            "elapsed_seconds": elapsed,
            "max_exec_seconds": autotune.max_exec_seconds,
        },
        "best": present(best) if best is not None else None,
    }


def best_trial(autotune: AutoTune) -> Trial | None:
    """The succeeded trial with the best final value (the lowest number among equals)."""
    ordered = "-value" if autotune.goal == Goal.MAXIMIZE else "value"
    rows = autotune.trials.filter(status=TrialStatus.SUCCEEDED, value__isnull=False).order_by(ordered, "number")
    return rows.only(*_LIST_FIELDS).first()


def trials(autotune: AutoTune, *, filter: str = "", order_by: str = "") -> QuerySet[Trial]:
    """The trials `filter` selects (the run filter language, em/autotune/trial_filter.py), ordered."""
    rows = autotune.trials.only(*_LIST_FIELDS, "autotune_id")
    rows = filter_trials(rows, filter, objective=autotune.objective_metric)
    return order_trials(rows, order_by, objective=autotune.objective_metric)


def present(trial: Trial) -> dict[str, Any]:
    duration = trial.duration
    return {
        "id": trial.number,
        "status": trial.status,
        "params": trial.params,
        "value": trial.value,
        "started_at": trial.started_at,
        "ended_at": trial.ended_at,
        "duration_seconds": duration.total_seconds() if duration is not None else None,
        "points": trial.points,
    }


def intermediate(trial: Trial) -> dict[str, Any]:
    """A trial's intermediate values in the order reported (NaN and infinities as null)."""
    steps = np.frombuffer(bytes(trial.steps), dtype="<i8")
    values = np.frombuffer(bytes(trial.values), dtype="<f8")
    return {
        **present(trial),
        "steps": steps.tolist(),
        "values": [value if math.isfinite(value) else None for value in values.tolist()],
    }


def trial(autotune: AutoTune, number: int) -> Trial:
    """One trial of the search, intermediate arrays included; NotFound otherwise."""
    found = autotune.trials.filter(number=number).first()
    if found is None:
        raise errors.NotFound(f"Trial {number} not found.")
    return found


def charts(autotune: AutoTune) -> dict[str, Any]:
    """The data of the search's three charts, trials in number order:

    - `values`: each finished trial's final value and the best-so-far after it (by the goal);
    - `parallel`: every parameter's values per trial (numbers as numbers, others as text) and the value;
    - `durations`: each trial's seconds from start to end (null while running) and its status.
    """
    rows = list(
        autotune.trials.order_by("number").values_list("number", "status", "params", "value", "started_at", "ended_at")
    )
    better = max if autotune.goal == Goal.MAXIMIZE else min
    best: float | None = None
    numbers, finals, best_so_far = [], [], []
    for number, status, _params, value, _start, _end in rows:
        if value is None or status != TrialStatus.SUCCEEDED:
            continue
        best = value if best is None else better(best, value)
        numbers.append(number)
        finals.append(value)
        best_so_far.append(best)
    keys = sorted({key for row in rows for key in (row[2] or {})})
    return {
        "objective": {"metric": autotune.objective_metric, "goal": autotune.goal},
        "values": {"trial": numbers, "value": finals, "best_so_far": best_so_far},
        "parallel": {
            "trial": [row[0] for row in rows],
            "status": [row[1] for row in rows],
            "params": {key: [(row[2] or {}).get(key) for row in rows] for key in keys},
            "value": [row[3] for row in rows],
        },
        "durations": {
            "trial": [row[0] for row in rows],
            "status": [row[1] for row in rows],
            "seconds": [(row[5] - row[4]).total_seconds() if row[4] and row[5] else None for row in rows],
        },
    }

"""Recording an Optuna study as an EM AutoTune search, live, with a callback for `study.optimize`.

    import em
    from em.client.integrations.optuna import EMCallback

    recorder = EMCallback("lr-search", objective_metric="val.accuracy", live=True, folder="searches")
    study.optimize(objective, n_trials=30, callbacks=[recorder])
    recorder.finish()  # the search is DONE; recorder.autotune.upload() sends its bundle

Optuna calls a callback once each trial has ended, so the search is recorded trial by trial as the study
runs: the trial's number, parameters, start and end, every intermediate value it reported (with its
step), its state (COMPLETE -> Succeeded, PRUNED -> Pruned, FAIL -> Failed) and its final value. The
study's direction gives the goal, the trials' distributions the search space. Only this module needs
Optuna; `import em` does not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from optuna.distributions import distribution_to_json
from optuna.study import Study
from optuna.trial import FrozenTrial

from em.client.sdk.autotune import AutoTune

_STATUS = {"COMPLETE": "Succeeded", "PRUNED": "Pruned", "FAIL": "Failed", "RUNNING": "Running", "WAITING": "Waiting"}


class EMCallback:
    """A callback for `study.optimize(..., callbacks=[EMCallback(...)])`; the search is made at the first
    trial's end (when the study's direction is known). Options go to `em.create_autotune`."""

    def __init__(
        self,
        name: str | None = None,
        *,
        objective_metric: str = "value",
        live: bool = False,
        folder: str | None = None,
        base_dir: str | Path | None = None,
        **options: Any,
    ) -> None:
        self.name = name
        self.objective_metric = objective_metric
        self.options = {"live": live, "folder": folder, "base_dir": base_dir, **options}
        self.autotune: AutoTune | None = None

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        search = self._search(study, trial)
        record = search.trial(trial.params, number=trial.number, start=trial.datetime_start)
        for step, value in sorted(trial.intermediate_values.items()):
            record.report(value, step=step)
        status = _STATUS.get(trial.state.name, "Failed")
        final = trial.value if status == "Succeeded" else None
        record.finish(value=final, status=status, end=trial.datetime_complete)
        space = search.profile["searchSpace"]
        new = {
            name: json.loads(distribution_to_json(d)) for name, d in trial.distributions.items() if name not in space
        }
        if new:
            space.update(new)
            search._write_profile()

    def finish(self, status: str = "DONE") -> None:
        """End the search (DONE, TIMEOUT or ERROR)."""
        if self.autotune is not None:
            self.autotune.finish(status)

    def _search(self, study: Study, trial: FrozenTrial) -> AutoTune:
        if self.autotune is None:
            goal = "minimize" if study.direction.name == "MINIMIZE" else "maximize"
            self.autotune = AutoTune(
                self.name or study.study_name,
                objective_metric=self.objective_metric,
                goal=goal,
                tuner={"name": "optuna", "sampler": type(study.sampler).__name__, "pruner": _pruner(study)},
                **self.options,
            )
        return self.autotune


def _pruner(study: Study) -> str:
    return type(getattr(study, "pruner", None)).__name__

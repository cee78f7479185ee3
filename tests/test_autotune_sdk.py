"""The AutoTune SDK and its Optuna callback write bundles the server indexes as recorded; the live API
takes a search trial by trial; `em autotune show` reads a bundle folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
from click.testing import CliRunner

import em
from em.autotune import indexing
from em.autotune.selectors import best_trial
from em.client.cli import main
from em.client.integrations.optuna import EMCallback
from em.models import Kind
from em.models.autotune import AutoTune, Trial
from em.services.nodes import create_node
from tests.bundle_helpers import replace_files
from tests.factories import root

pytestmark = pytest.mark.django_db


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _index(owner: Any, folder: Path) -> AutoTune:
    node = create_node(parent=root(owner), name=folder.name, kind=Kind.AUTOTUNE, by=owner)
    replace_files(node, _files(folder))
    outcome = indexing.index_autotune(node.pk)
    assert outcome["state"] == "indexed", outcome["errors"]
    return AutoTune.objects.get(node=node)


def objective(trial: optuna.Trial) -> float:
    """A small real objective: a bowl in (x, layers) that improves with steps; bad starts are pruned."""
    x = trial.suggest_float("x", -4.0, 4.0)
    layers = trial.suggest_int("layers", 1, 4)
    value = 0.0
    for step in range(8):
        value = -((x - 1.0) ** 2) - 0.5 * abs(layers - 2) + 0.1 * step
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def study(n_trials: int, callback: EMCallback) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=3),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=2),
        study_name="bowl",
    )
    s.optimize(objective, n_trials=n_trials, callbacks=[callback])
    callback.finish()
    return s


def test_importing_em_needs_neither_django_nor_optuna():
    code = "import sys, em; em.create_autotune; assert 'django' not in sys.modules and 'optuna' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0  # noqa: S603


def test_a_loop_writes_a_bundle_the_server_indexes(alice, private_storage, tmp_path):
    with em.create_autotune("grid", objective_metric="acc", goal="maximize", base_dir=tmp_path) as search:
        for number, lr in enumerate([0.1, 0.01, 0.001]):
            with search.trial({"lr": lr, "opt": {"name": "sgd"}}) as trial:
                for step in range(5):
                    trial.report(lr * step, step=step)
                if number == 2:
                    trial.prune()
                else:
                    trial.finish(value=lr * 10)
    assert search.profile["status"] == "DONE"
    autotune = _index(alice, search.folder)
    rows = list(Trial.objects.filter(autotune=autotune).order_by("number").values_list("status", "value", "points"))
    assert rows == [("Succeeded", 1.0, 5), ("Succeeded", 0.1, 5), ("Pruned", pytest.approx(0.004), 5)]
    assert Trial.objects.get(autotune=autotune, number=1).params == {"lr": 0.01, "opt": {"name": "sgd"}}


def test_the_optuna_callback_records_params_intermediates_pruning_and_values(alice, private_storage, tmp_path):
    recorder = EMCallback(objective_metric="score", base_dir=tmp_path)
    s = study(20, recorder)
    assert recorder.autotune is not None
    autotune = _index(alice, recorder.autotune.folder)
    assert (autotune.goal, autotune.objective_metric, autotune.status) == ("maximize", "score", "DONE")
    assert set(autotune.search_space) == {"x", "layers"}
    trials = {t.number: t for t in Trial.objects.filter(autotune=autotune)}
    assert len(trials) == 20
    pruned = {t.number for t in s.trials if t.state == optuna.trial.TrialState.PRUNED}
    assert pruned and {n for n, t in trials.items() if t.status == "Pruned"} == pruned
    for frozen in s.trials:
        trial = trials[frozen.number]
        assert trial.params == frozen.params and trial.points == len(frozen.intermediate_values)
    best = best_trial(autotune)
    assert best is not None
    assert (best.number, best.value, best.params) == (s.best_trial.number, s.best_value, s.best_trial.params)


def test_em_autotune_show_reads_a_bundle_folder(tmp_path):
    recorder = EMCallback("bowl-search", objective_metric="score", base_dir=tmp_path)
    s = study(8, recorder)
    assert recorder.autotune is not None
    shown = CliRunner().invoke(main, ["autotune", "show", str(recorder.autotune.folder)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "bowl-search" in shown.output and "DONE" in shown.output and "maximize score" in shown.output
    assert f"best: trial {s.best_trial.number} = {s.best_value}" in shown.output


def test_the_live_api_takes_a_search_trial_by_trial(alice, bob, api):
    client = api(alice)
    created = client.post(
        "/api/v1/autotune",
        {
            "parent_path": "/alice/searches",
            "make_folder": True,
            "name": "live",
            "profile": {"objective": {"metric": "acc"}},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    url = f"/api/v1/autotune/{created.json()['id']}"
    assert client.post(f"{url}/trials", {"id": 0, "parameters": {"lr": 0.1}}, format="json").status_code == 201
    duplicate = client.post(f"{url}/trials", {"id": 0}, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "conflict"
    for step in range(3):
        answer = client.patch(f"{url}/trials/0", {"intermediate": [{"step": step, "value": step / 10}]}, format="json")
        assert answer.status_code == 200 and answer.json()["points"] == step + 1
    assert client.patch(f"{url}/trials/0", {"status": "COMPLETE", "final": 0.3}, format="json").status_code == 200
    bad = client.patch(f"{url}/trials/0", {"status": "melted"}, format="json")
    assert bad.status_code == 400 and "unknown" in bad.json()["error"]["message"]
    assert client.patch(f"{url}/trials/7", {"final": 1}, format="json").status_code == 404
    assert (
        client.patch(url, {"profile": {"objective": {"metric": "acc"}, "status": "DONE"}}, format="json").status_code
        == 200
    )
    body = client.get(url).json()
    assert body["live"] and body["profile"]["status"] == "DONE" and body["best"]["value"] == 0.3
    assert client.get(f"{url}/trials/0").json()["values"] == [0.0, 0.1, 0.2]
    assert api(bob).post(f"{url}/trials", {"id": 1}, format="json").status_code == 404
    assert client.post(f"{url}/trials", {"id": 1, "colour": "red"}, format="json").status_code == 400

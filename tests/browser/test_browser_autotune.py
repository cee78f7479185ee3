"""The AutoTune page in a real browser against a live server with real data: an Optuna study recorded
live with EM's callback, opened from the folder browser, its best trial read and promoted to a run; and a
search of 500 trials, timed from navigation to a drawn page (trials table and final-value chart)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from em.autotune.bundle import TrialData
from em.autotune.services import create_live, replace_trials
from em.models import Kind, Node, Run
from tests.browser.conftest import screenshot
from tests.browser.page_timing import open_drawn
from tests.factories import folder, root

optuna = pytest.importorskip("optuna")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def objective(trial: Any) -> float:
    """A bowl in (x, layers) that improves with steps; bad starts are pruned."""
    x = trial.suggest_float("x", -4.0, 4.0)
    layers = trial.suggest_int("layers", 1, 4)
    value = 0.0
    for step in range(8):
        value = -((x - 1.0) ** 2) - 0.5 * abs(layers - 2) + 0.1 * step
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def test_an_optuna_study_recorded_live_shows_its_best_trial(open_portal, alice, signed_in, workdir: Path):
    from em.client.integrations.optuna import EMCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=3),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=2),
    )
    folder(root(alice), "searches")
    recorder = EMCallback("bowl-search", objective_metric="score", live=True, folder="searches")
    study.optimize(objective, n_trials=16, callbacks=[recorder])
    recorder.finish()
    best = study.best_trial

    page = open_portal(alice)
    page.goto("/browse/alice/searches")
    page.get_by_role("link", name=re.compile("bowl-search")).click()
    page.wait_for_url(re.compile(r"/autotune/[0-9a-f-]+$"))
    page.get_by_role("heading", name="bowl-search").wait_for()
    expect(page.get_by_test_id("objective")).to_have_text("score (maximize)")
    expect(page.get_by_test_id("best-trial")).to_contain_text(f"Trial {best.number}:")
    expect(page.get_by_test_id("trials-count")).to_have_text("16 trials")
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    if pruned:
        expect(page.get_by_test_id("status-counts")).to_contain_text(f"Pruned {pruned}")

    # The table sorts best first by the goal: its first row is the best trial.
    trials = page.get_by_role("table", name="Trials")
    first = trials.get_by_role("row").nth(1)
    expect(first.get_by_role("button", name=f"Show trial {best.number}")).to_be_visible()
    # A filter in the run filter language, and a mistake shown as the server words it.
    page.get_by_test_id("trial-filter").fill("attributes.status = 'Pruned'")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.get_by_test_id("trials-count")).to_have_text(f"{pruned} trial" + ("" if pruned == 1 else "s"))
    page.get_by_test_id("trial-filter").fill("tags.x = 1")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.get_by_test_id("trial-filter-error")).to_be_visible()
    page.get_by_role("button", name="Clear").click()
    expect(page.get_by_test_id("trials-count")).to_have_text("16 trials")

    # The best trial: its parameters and intermediate values, then promoted to a run.
    trials.get_by_role("button", name=f"Show trial {best.number}").click()
    detail = page.get_by_test_id("trial-detail")
    expect(detail.locator(".trial-params")).to_contain_text(f"{best.params['layers']}")
    detail.locator(".uplot-box canvas").first.wait_for()
    page.locator("[data-chart=parallel]").scroll_into_view_if_needed()
    page.locator(".plotly-box[data-ready] .parcoords").first.wait_for(timeout=60_000)
    page.get_by_test_id("top-percent").select_option("25")
    screenshot(page, "autotune-optuna-best-trial")
    detail.get_by_label("Run name (optional)").fill("best-bowl")
    detail.get_by_role("button", name="Promote to a run").click()
    detail.get_by_role("link", name="best-bowl").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]+"))
    run = Run.objects.get(node__name="best-bowl", node__deleted_at=None)
    assert run.node.parent is not None and run.node.parent.name == "searches"
    assert page.url.endswith(f"/runs/{run.node_id}")


def test_a_search_of_500_trials_draws_fast(open_portal, alice, timings, record_property):
    profile = {
        "objective": {"metric": "accuracy", "goal": "maximize"},
        "searchSpace": {"lr": {"_type": "loguniform", "_value": [1e-4, 0.1]}},
        "maxTrialNum": 500,
        "trialConcurrency": 8,
        "status": "DONE",
    }
    autotune = create_live(parent=folder(root(alice), "searches"), name="big", profile=profile, by=alice)
    rng = np.random.default_rng(7)
    start = timezone.now() - timedelta(hours=5)
    trials = []
    for n in range(500):
        steps = np.arange(20, dtype="<i8")
        accuracy = 0.5 + 0.4 * rng.random()
        trials.append(
            TrialData(
                number=n,
                status="Succeeded" if n % 10 else "Pruned",
                params={
                    "lr": float(10 ** rng.uniform(-4, -1)),
                    "layers": int(rng.integers(1, 5)),
                    "opt": "adam" if n % 2 else "sgd",
                },
                value=accuracy if n % 10 else None,
                started_at=start + timedelta(seconds=30 * n),
                ended_at=start + timedelta(seconds=30 * n + 20 + n % 7),
                steps=steps,
                values=(accuracy * (1 - np.exp(-steps / 5))).astype("<f8"),
            )
        )
    with transaction.atomic():
        replace_trials(autotune, trials)

    page = open_portal(alice)
    drawn = open_drawn(page, f"/autotune/{autotune.node_id}", "[data-testid=autotune-page]", timeout=30_000)
    expect(page.get_by_test_id("trials-count")).to_have_text("500 trials")
    # The figures below the fold draw when scrolled to: parallel coordinates of 500 trials.
    scrolled = time.perf_counter()
    page.locator("[data-chart=parallel]").scroll_into_view_if_needed()
    page.locator(".plotly-box[data-ready] .parcoords").first.wait_for(timeout=60_000)
    parallel_ms = (time.perf_counter() - scrolled) * 1000
    timings["500-trial AutoTune page, table and value chart drawn (in page)"] = drawn.in_page_ms
    timings["500-trial AutoTune page, navigation to drawn (test side)"] = drawn.wall_ms
    timings["500-trial parallel coordinates, scrolled into view to drawn (test side)"] = parallel_ms
    record_property("autotune_500_ms", round(drawn.in_page_ms))
    best = Node.objects.get(pk=autotune.node_id)
    assert best.kind == Kind.AUTOTUNE
    screenshot(page, "autotune-500-trials")

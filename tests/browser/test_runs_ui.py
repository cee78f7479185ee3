"""The run screens in a real browser against a live server with real data: a run uploaded with the
`em` CLI appears in the runs table while it is open; the filter language narrows the table and a
mistake is shown under the bad token; three runs compared; a run page charting a 1,000,000-point
metric (time to first chart measured); and a folder of 10,000 runs that opens and scrolls."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from django.utils import timezone
from playwright.sync_api import expect

import em
from accounts import services as account_services
from em.client import config
from em.client.cli import main
from em.models import Kind, MetricSeries, Node, Param, Run, RunStatus
from em.runs import metrics
from em.runs import services as run_services
from tests.browser.conftest import screenshot
from tests.browser.page_timing import SCROLL_THROUGH, open_drawn
from tests.factories import folder, root

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ONE_MILLION = 1_000_000


@pytest.fixture
def em_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live_server: Any, alice: Any) -> Callable[..., Result]:
    """`em …` as alice, in a fresh working directory, talking to the live server with a real key."""
    monkeypatch.setenv(config.CONFIG_DIR_ENV, str(tmp_path / "em-config"))
    monkeypatch.setenv(config.HOST_ENV, live_server.url)
    monkeypatch.setenv(config.API_KEY_ENV, account_services.create_key(user=alice, name="ui")[1])
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def write_run(name: str, lr: float, acc: float) -> None:
    """A bundle under .em/runs, written by the real SDK."""
    with em.create_run(name=name, hparams={"lr": lr, "layers": 2}) as run:
        for step in range(1, 21):
            run.log("train", {"loss": lr / step}, step=step, epoch=step // 10)
        run.log("val", {"acc": acc}, step=20)


def table_row(page: Any, name: str) -> Any:
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def live_run(parent: Node, name: str, hparams: dict[str, Any], series: dict[str, np.ndarray]) -> Run:
    """A run made by the services, its metrics stored whole with `em.runs.metrics.replace`."""
    run = run_services.create_live_run(parent=parent, name=name, by=parent.owner, hparams=hparams)
    for key, values in series.items():
        n = len(values)
        points = metrics.Points(
            steps=np.arange(n, dtype=np.int64),
            epochs=np.arange(n, dtype=np.int64) // max(1, n // 10),
            timestamps=1.7e9 + np.arange(n, dtype=np.float64) * 0.01,
            values=values,
        )
        metrics.replace(run, key, points)
    run_services.update_run(run=run, by=parent.owner, status=RunStatus.COMPLETE)
    return run


def test_a_run_uploaded_with_the_cli_appears_in_the_open_table(open_portal, alice, em_cli):
    mnist = folder(root(alice), "mnist")
    page = open_portal(alice)
    page.goto(f"/runs?folder={mnist.pk}&recursive=1")
    page.get_by_role("heading", name="Runs in /alice/mnist").wait_for()
    page.get_by_text("No runs here yet.").wait_for()

    write_run("mnist-a", 0.1, 0.9)
    result = em_cli("upload", ".em/runs", "-f", "mnist")
    assert result.exit_code == 0, result.output

    table_row(page, "mnist-a").wait_for(timeout=20_000)  # the table polls every few seconds
    expect(page.get_by_test_id("runs-count")).to_have_text("1 run")
    expect(table_row(page, "mnist-a").get_by_text("Complete")).to_be_visible()
    screenshot(page, "runs-table-after-upload")


def test_search_with_the_filter_language_and_see_a_mistake_where_it_is(open_portal, alice, em_cli):
    for name, lr, acc in (("slow", 0.01, 0.95), ("fast", 0.1, 0.8), ("faster", 0.3, 0.6)):
        write_run(name, lr, acc)
    assert em_cli("upload", ".em/runs", "-f", "sweep", "-m").exit_code == 0
    page = open_portal(alice)
    page.goto("/runs")
    expect(page.get_by_test_id("runs-count")).to_have_text("3 runs")

    box = page.get_by_test_id("filter-input")
    box.fill("params.lr >= 0.1 AND metrics.val.acc > 0.7")
    box.press("Enter")
    expect(page.get_by_test_id("runs-count")).to_have_text("1 run")
    table_row(page, "fast").wait_for()
    expect(page.locator(".filter-mirror .tok-prefix").first).to_have_text("params.")
    expect(page.locator(".filter-mirror .tok-keyword")).to_have_text("AND")

    box.fill("metrics.val.acc > )")
    box.press("Enter")
    error = page.get_by_test_id("filter-error")
    expect(error).to_contain_text("column 19")
    expect(page.locator(".filter-mirror .tok-error")).to_have_text(")")
    screenshot(page, "runs-filter-error")

    # The last good filter is in the recent list and brings the run back.
    page.get_by_label("Recent").select_option("params.lr >= 0.1 AND metrics.val.acc > 0.7")
    table_row(page, "fast").wait_for()
    expect(error).to_have_count(0)


def test_compare_three_runs(open_portal, alice):
    sweep = folder(root(alice), "sweep")
    other = folder(root(alice), "other")
    curve = np.linspace(1.0, 0.1, 200)
    made = [
        live_run(sweep, "a", {"lr": 0.1, "layers": 2, "opt": "adam"}, {"train.loss": curve, "val.acc": curve[::-1]}),
        live_run(sweep, "b", {"lr": 0.01, "layers": 2, "opt": "sgd"}, {"train.loss": curve * 2, "val.acc": curve}),
        live_run(
            other, "c", {"lr": 0.001, "layers": 2, "opt": "adam"}, {"train.loss": curve * 3, "val.acc": curve / 2}
        ),
    ]
    page = open_portal(alice)
    # Alice's root holds no runs itself; with its sub-folders it holds all three.
    page.goto(f"/runs?folder={root(alice).pk}&recursive=0")
    page.get_by_text("No runs here yet.").wait_for()
    page.get_by_label("Include sub-folders").click()
    expect(page.get_by_label("Include sub-folders")).to_be_checked()
    expect(page.get_by_test_id("runs-count")).to_have_text("3 runs")
    # The selection is kept across folders: two runs picked in one, the third in another.
    page.goto(f"/runs?folder={sweep.pk}")
    for name in ("a", "b"):
        table_row(page, name).get_by_role("checkbox").check()
    page.goto(f"/runs?folder={other.pk}")
    table_row(page, "c").get_by_role("checkbox").check()
    page.get_by_role("button", name="Compare 3 runs").click()
    page.wait_for_url(re.compile(r"/compare\?runs="))
    assert set(page.url.split("runs=")[1].split(",")) == {str(r.node_id) for r in made}

    page.get_by_role("heading", name="Compare runs").wait_for()
    params = page.locator(".compare-section").filter(has=page.get_by_role("heading", name="Parameters"))
    expect(params.get_by_role("row", name=re.compile("^layers"))).to_have_count(1)
    page.get_by_test_id("hide-identical").check()
    expect(params.get_by_role("row", name=re.compile("^layers"))).to_have_count(0)
    expect(params.get_by_role("row", name=re.compile(r"^(≠ )?lr "))).to_have_count(1)
    page.locator(".chart-card[data-metric='train.loss'] canvas").first.wait_for()
    page.locator(".plotly-box[data-ready] .parcoords").first.wait_for(timeout=30_000)
    page.get_by_role("radio", name="Scatter").click()
    page.locator(".plotly-box[data-ready] .scatterlayer").first.wait_for()
    screenshot(page, "compare-three-runs")


def test_a_million_point_metric_charts_fast(open_portal, alice, timings, record_property):
    run = live_run(
        folder(root(alice), "long"),
        "million",
        {"lr": 0.1},
        {"train.loss": np.exp(-np.arange(ONE_MILLION) / 2e5) + np.sin(np.arange(ONE_MILLION) / 50) * 0.05},
    )
    assert MetricSeries.objects.get(run=run, key="train.loss").count == ONE_MILLION
    page = open_portal(alice)
    drawn = open_drawn(page, f"/runs/{run.node_id}#metrics", ".chart-card[data-metric='train.loss']")
    chart = drawn.locator
    expect(chart.get_by_text(re.compile(r"of 1,000,000 points"))).to_be_visible()
    timings["1M-point chart, first draw after navigation (in page)"] = drawn.in_page_ms
    timings["1M-point chart, test side wall clock"] = drawn.wall_ms
    record_property("first_chart_ms", round(drawn.in_page_ms))
    screenshot(page, "run-page-million-points")

    # Zoom by dragging across the chart, then the other controls redraw without errors.
    canvas = chart.locator(".u-over")
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    page.get_by_label("Log scale").check()
    page.get_by_label("X axis").select_option("relative")
    page.locator(".chart-card[data-metric='train.loss'] canvas").first.wait_for()
    assert drawn.in_page_ms < 5_000


def ten_thousand_runs(owner: Any, name: str, count: int) -> Node:
    """A folder of `count` completed runs with a param and a metric each, bulk-inserted (as bench does)."""
    from bench.tree import TreeBuilder

    big = folder(root(owner), name)
    builder = TreeBuilder(owner.pk)
    nodes = [builder.add(big, f"run-{i:05d}", Kind.RUN) for i in range(count)]
    builder.insert()
    start = timezone.now() - timedelta(days=1)
    Run.objects.bulk_create(
        [
            Run(
                node=node,
                status=RunStatus.COMPLETE,
                started_at=start + timedelta(seconds=i),
                ended_at=start + timedelta(seconds=i + 60),
                source_type="SDK",
                index_state="indexed",
            )
            for i, node in enumerate(nodes)
        ],
        batch_size=2000,
    )
    Param.objects.bulk_create(
        [Param(run_id=node.pk, key="lr", value=str(i / count), number=i / count) for i, node in enumerate(nodes)],
        batch_size=2000,
    )
    MetricSeries.objects.bulk_create(
        [
            MetricSeries(run_id=node.pk, key="val.acc", count=1, min=i / count, max=i / count, latest=i / count)
            for i, node in enumerate(nodes)
        ],
        batch_size=2000,
    )
    return big


FIRST_ROW = "() => document.querySelector('[role=row][aria-rowindex=\"2\"] a.run-link') && performance.now()"


def test_a_folder_of_ten_thousand_runs_opens_and_scrolls(open_portal, alice, timings, record_property):
    big = ten_thousand_runs(alice, "big", 10_000)
    page = open_portal(alice)
    started = time.perf_counter()
    page.goto(f"/runs?folder={big.pk}&order_by=attributes.name%20ASC")
    first_row_ms = page.wait_for_function(FIRST_ROW, polling="raf").json_value()
    timings["10,000 runs: first row (in page)"] = first_row_ms
    timings["10,000 runs: first row (wall)"] = (time.perf_counter() - started) * 1000
    expect(page.get_by_test_id("runs-count")).to_have_text("10,000 runs")
    table_row(page, "run-00000").wait_for()

    scroll = page.evaluate(SCROLL_THROUGH)
    table_row(page, "run-09999").wait_for()
    expect(table_row(page, "run-09999").get_by_text("0.9999")).to_have_count(2)  # the lr and val.acc columns
    timings["10,000 runs: scroll frame median"] = scroll["median"]
    timings["10,000 runs: scroll frame p95"] = scroll["p95"]
    record_property("first_row_ms", round(first_row_ms))
    screenshot(page, "ten-thousand-runs-end")
    assert first_row_ms < 5_000


def test_tag_and_annotate_a_run_then_delete_runs_from_the_table(open_portal, alice):
    project = folder(root(alice), "project")
    keep = live_run(project, "keep", {"lr": 0.1}, {"train.loss": np.linspace(1, 0, 50)})
    drop = [live_run(project, name, {"lr": 0.2}, {}) for name in ("drop-1", "drop-2")]
    page = open_portal(alice)
    page.goto(f"/runs/{keep.node_id}")
    page.get_by_label("Key").fill("team")
    page.get_by_label("Value").fill("vision")
    page.get_by_role("button", name="Add tag").click()
    page.get_by_role("button", name="Remove tag team").wait_for()
    page.get_by_role("button", name="Edit notes").click()
    page.get_by_role("textbox", name="Notes").fill("Baseline for the sweep.")
    page.get_by_role("button", name="Save").click()
    page.locator("p.notes", has_text="Baseline for the sweep.").wait_for()
    keep.refresh_from_db()
    assert keep.notes == "Baseline for the sweep."
    assert dict(keep.tags.values_list("key", "value")) == {"team": "vision"}
    page.get_by_role("tab", name="Hyperparameters").click()
    expect(page.get_by_role("tabpanel")).to_contain_text("lr")
    screenshot(page, "run-page-tags-notes")

    page.goto(f"/runs?folder={project.pk}")
    for name in ("drop-1", "drop-2"):
        table_row(page, name).get_by_role("checkbox").check()
    page.get_by_role("button", name="Delete 2").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete 2").click()
    page.get_by_text("2 runs moved to the trash.").wait_for()
    expect(page.get_by_test_id("runs-count")).to_have_text("1 run")
    assert all(Node.objects.get(pk=run.node_id).deleted_at is not None for run in drop)

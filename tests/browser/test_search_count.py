"""The runs table past the count the server stops at: "N+ runs" as soon as the first rows come, the
exact number once it is counted apart, and every row reachable."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from em.api.pagination import CappedCountPagination
from tests.browser.conftest import screenshot
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXACT_COUNT = re.compile(r".*/api/v1/runs\?.*exact_count=1.*")


def test_the_table_says_n_plus_runs_until_the_exact_count_comes(
    open_portal: Any, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CappedCountPagination, "count_limit", 3)  # the live server runs in this process
    exp = folder(root(alice), "exp")
    for i in range(5):
        make_run(exp, f"run-{i}", by=alice, hparams={"lr": i / 10}, series={"val.acc": [i / 10]})
    page = open_portal(alice)
    held: list[Any] = []
    page.route(EXACT_COUNT, lambda route: held.append(route))  # held until the test lets it through
    page.goto(f"/runs?folder={exp.pk}&order_by=attributes.name%20ASC")
    count = page.get_by_test_id("runs-count")
    expect(count).to_have_text("3+ runs")
    expect(page.get_by_role("link", name="run-0", exact=True)).to_be_visible()
    page.wait_for_function("() => true")  # lets the route handler run
    assert len(held) == 1, "the exact count was asked for once"
    screenshot(page, "runs-count-not-exact")
    held[0].continue_()
    expect(count).to_have_text("5 runs")
    expect(page.get_by_role("link", name="run-4", exact=True)).to_be_visible()

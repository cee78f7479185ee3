"""Nested runs in the portal (issue 15: MLflow's `nested=True` runs are EM's too): a child run's page
says which run it is nested in and links there, and the parent's overview lists its direct children
(not its grandchildren), each a link to its own page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_run_page_shows_its_parent_and_its_nested_runs(open_portal: Any, alice: Any) -> None:
    exp = folder(root(alice), "sweep")
    parent = make_run(exp, "tuning").node
    trials = [make_run(parent, f"trial-{i}").node for i in range(3)]
    make_run(trials[0], "fold-1")  # a grandchild: listed on trial-0's page, not on tuning's

    page = open_portal(alice)
    page.goto(f"/runs/{parent.pk}")
    nested = page.get_by_role("region", name="Nested runs (3)")
    expect(nested).to_be_visible()
    for trial in trials:
        expect(nested.get_by_role("link", name=trial.name, exact=True)).to_be_visible()
    expect(nested.get_by_role("link", name="fold-1")).to_have_count(0)
    screenshot(page, "nested-runs-parent")

    nested.get_by_role("link", name="trial-0", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="trial-0")).to_be_visible()
    expect(page.get_by_text("Nested in")).to_be_visible()
    expect(page.get_by_role("region", name="Nested runs (1)").get_by_role("link", name="fold-1")).to_be_visible()
    page.get_by_role("link", name="tuning", exact=True).first.click()
    expect(page.get_by_role("heading", level=1, name="tuning")).to_be_visible()
    expect(page.get_by_text("Nested in")).to_have_count(0)

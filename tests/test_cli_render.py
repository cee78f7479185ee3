"""How `em runs search` and `em runs diff` print: rounded numbers, metric summaries, counts; `--json` whole."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

import em
from em.client import render

COMPARISON: dict[str, Any] = {
    "runs": [{"id": "a", "name": "mlp-h32"}, {"id": "b", "name": "mlp-h64"}],
    "attributes": [
        {"key": "name", "values": ["mlp-h32", "mlp-h64"], "all_equal": False},
        {"key": "status", "values": ["Complete", "Error"], "all_equal": False},
        {"key": "duration", "values": [65.0, 3725.0], "all_equal": False},
        {"key": "user", "values": ["demo", "demo"], "all_equal": True},
    ],
    "params": [
        {"key": "lr", "values": ["1.0", "5.0"], "all_equal": False},
        {"key": "epochs", "values": ["30", "30"], "all_equal": True},
    ],
    "metrics": [
        {
            "key": "val.loss",
            "values": [
                {"count": 30, "min": 0.05781307329284134, "max": 1.0983218, "latest": 0.05781307329284134},
                {"count": 3, "min": 13.9, "max": 13.9, "latest": 13.912345678},
            ],
            "all_equal": False,
        },
        {"key": "train.accuracy", "values": [{"latest": 1.0}, {"latest": 1.0}], "all_equal": True},
    ],
}


def text(renderable: Any) -> str:
    out = Console(width=200, record=True, file=io.StringIO())
    out.print(renderable)
    return out.export_text()


def test_numbers_are_rounded_to_four_significant_digits() -> None:
    assert render.value_text(0.05781307329284134) == "0.05781"
    assert render.value_text(13.912345678) == "13.91"
    assert render.value_text(123456.789) == "1.235e+05"
    assert render.value_text(3) == "3" and render.value_text(None) == "" and render.value_text(True) == "true"


def test_runs_table_shows_rounded_latest_values() -> None:
    rows = [
        {
            "name": "mlp-h32",
            "run": {"status": "Complete", "started_at": None, "duration": 65.2},
            "params": {"optimizer.lr": "1.0"},
            "metrics": {"val.loss": 0.05781307329284134},
        }
    ]
    shown = text(render.runs_table(rows))
    assert "0.05781" in shown and "0.0578130" not in shown
    assert "1m 05s" in shown and "optimizer.lr" in shown


def test_diff_shows_what_differs_with_metric_ranges_and_counts_the_rest() -> None:
    table = render.diff_table(COMPARISON)
    assert table is not None
    shown = text(table)
    lines = shown.splitlines()
    assert any(line.split()[:4] == ["run", "status", "Complete", "Error"] for line in lines)
    assert any(line.split()[:4] == ["run", "duration", "1m", "05s"] for line in lines)
    assert any(line.split()[:4] == ["params", "lr", "1.0", "5.0"] for line in lines)
    assert "0.05781 (0.05781..1.098)" in shown and "13.91" in shown and "13.9..13.9" not in shown
    assert "epochs" not in shown and "train.accuracy" not in shown and "{" not in shown
    assert "1 of 2 params and 1 of 2 metrics differ" in shown


def test_diff_of_runs_alike_is_none() -> None:
    alike = {**COMPARISON, "params": [COMPARISON["params"][1]], "metrics": [COMPARISON["metrics"][1]]}
    assert render.diff_table(alike) is None


@pytest.mark.django_db(transaction=True)
def test_search_and_diff_print_tables_and_json_on_request(signed_in: Any, alice: Any, em_cli: Any) -> None:
    for name, lr in (("slow", 0.1), ("fast", 0.123456789)):
        with em.create_run(name=name, hparams={"lr": lr}) as run:
            run.log("val", {"loss": 1 / 3 + lr}, step=1)
    assert em_cli("upload", ".em/runs", "-f", "exp", "-m").exit_code == 0

    table = em_cli("runs", "search", "--folder", "exp", "--order-by", "attributes.name")
    assert table.exit_code == 0, table.output
    assert "0.4568" in table.stdout and "0.456790" not in table.stdout
    assert table.stderr.strip() == "2 runs"
    limited = em_cli("runs", "search", "--folder", "exp", "--limit", "1")
    assert "the first 1 of more" in limited.stderr

    as_json = em_cli("runs", "search", "--folder", "exp", "--json", "--order-by", "attributes.name")
    rows = json.loads(as_json.stdout)
    assert [row["name"] for row in rows] == ["fast", "slow"]
    assert rows[0]["metrics"]["val.loss"] == pytest.approx(1 / 3 + 0.123456789)

    diff = em_cli("runs", "diff", "exp/slow", "exp/fast")
    assert diff.exit_code == 0, diff.output
    assert "0.4333" in diff.stdout and "0.4568" in diff.stdout and "{" not in diff.stdout
    whole = json.loads(em_cli("runs", "diff", "exp/slow", "exp/fast", "--json").stdout)
    assert [run["name"] for run in whole["runs"]] == ["slow", "fast"] and whole["metrics"][0]["key"] == "val.loss"

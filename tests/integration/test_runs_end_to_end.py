"""A run's whole journey through real parts: a training script uses the SDK, `em upload` sends the bundle to
a live server, Redis carries the indexing task to a real `celery worker` process, and then search finds the
run and compare lines it up against another — all on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from accounts import services as account_services
from em.models import IndexState, Run

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

TRAIN = textwrap.dedent(
    """
    import sys
    import em

    lr = float(sys.argv[1])
    with em.create_run(name=f"mnist-lr{lr}", hparams={"lr": lr, "model": {"layers": 3}}, labels=["e2e"]) as run:
        run.hparams["batch_size"] = 64
        for epoch in range(1, 4):
            for step in range(epoch * 100 - 99, epoch * 100 + 1):
                run.log("training", {"loss": lr * 100 / step}, step=step, epoch=epoch)
            run.log("validation", {"accuracy": 1 - lr * 10 / epoch}, step=epoch * 100, epoch=epoch)
            print(f"epoch {epoch} done", flush=True)
            print("a warning on stderr", file=sys.stderr)
    """
)


def em(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real `em` console entry point in a process of its own."""
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "em.client.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def wait_until_indexed(count: int, timeout: float = 60) -> list[Run]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = list(Run.objects.filter(index_state__in=[IndexState.INDEXED, IndexState.FAILED]))
        if len(runs) >= count:
            return runs
        time.sleep(0.2)
    pytest.fail(f"the worker indexed {Run.objects.filter(index_state=IndexState.INDEXED).count()} of {count} runs")


def test_sdk_upload_worker_search_and_compare(em_worker: Any, live_server: Any, make_user: Any, tmp_path: Path):
    alice = make_user("alice")
    key = account_services.create_key(user=alice, name="e2e")[1]
    env = {
        **os.environ,
        "EM_HOST": live_server.url,
        "EM_API_KEY": key,
        "EM_CONFIG_DIR": str(tmp_path / "config"),
        "COLUMNS": "200",
    }
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / ".gitignore").write_text(".em/\nconfig/\n")
    for git in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "train"]):
        subprocess.run(  # noqa: S603
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *git],  # noqa: S607
            cwd=tmp_path, check=True,
        )  # fmt: skip
    for lr in ("0.01", "0.05"):
        trained = subprocess.run(  # noqa: S603
            [sys.executable, "train.py", lr], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert trained.returncode == 0, trained.stderr

    uploaded = em("upload", ".em/runs", "-f", "experiments", "-m", cwd=tmp_path, env=env)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr

    runs = wait_until_indexed(2)
    assert {r.index_state for r in runs} == {IndexState.INDEXED}, [r.index_errors for r in runs]
    assert "index_run" in em_worker.output() and "succeeded" in em_worker.output()
    best = Run.objects.get(node__name="mnist-lr0.01")
    assert best.status == "Complete" and best.source_name == "train.py"
    assert best.git["branch"] == "main" and best.git["is_dirty"] is False
    assert best.params.get(key="model.layers").number == 3
    assert best.params.get(key="batch_size").number == 64
    loss = best.metrics.get(key="train.loss")
    assert (loss.count, loss.latest_step) == (300, 300)
    assert best.metrics.get(key="val.accuracy").latest == pytest.approx(1 - 0.1 / 3)

    found = em("runs", "search", "metrics.val.accuracy > 0.9 AND params.lr = 0.01", "--csv", cwd=tmp_path, env=env)
    assert found.returncode == 0, found.stderr
    rows = found.stdout.strip().splitlines()
    assert rows[0].startswith("Run ID,Name,Source Type,Source Name,User,Status")
    assert len(rows) == 2 and "mnist-lr0.01" in rows[1] and ",alice,Complete" in rows[1]

    first, second = "/alice/experiments/mnist-lr0.01", "/alice/experiments/mnist-lr0.05"
    diff = em("runs", "diff", first, second, cwd=tmp_path, env=env)
    assert diff.returncode == 0, diff.stderr
    assert "lr" in diff.stdout and "0.05" in diff.stdout and "val.accuracy" in diff.stdout
    assert "batch_size" not in diff.stdout  # equal values are hidden

    log = em("runs", "show", "/alice/experiments/mnist-lr0.05", cwd=tmp_path, env=env)
    assert log.returncode == 0 and "Complete" in log.stdout

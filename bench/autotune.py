"""Benchmark AutoTune against the budget of ARCHITECTURE.md §6, on PostgreSQL.

    python bench/autotune.py [--json] [--database-url postgres://postgres@127.0.0.1:5432/em_bench_autotune]
                             [--trials 2000] [--points 100] [--repeat 10]

The database named in the URL is DROPPED and created afresh (its name must contain "bench") and migrated;
DEBUG is off. What is measured, through the real code:

- indexing: a search of --trials trials x --points intermediate values each, in the bundle layout of
  docs/autotune.md (profile.json, trials/<n>/metadata.json and metrics.yaml as the SDK writes them), is
  received into the blob store with a manifest, then `em.tasks.index_autotune` is timed in-process, as the
  Celery worker runs it (budget: 5 s);
- reading: the trials page (first 100 sorted by the objective, and with a two-term filter), the summary
  (profile, progress, best trial), the chart data and one trial's intermediate values, in-process through
  `em.autotune.selectors` and through `GET /api/v1/autotune/<id>/...` of `gunicorn em.wsgi -w 2` with a
  real API key; the median of --repeat (budget for the trials page: 100 ms).

By default a table is printed and the exit status is 1 if a budget is missed; `--json` prints one object
per line instead: `{"name", "value", "unit", "budget", "better"}`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from _runs import fixtures
from _runs.server import start_em
from tree import REPO, Result, recreate_database, render, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/em_bench_autotune"
PAGE = {"order_by": "metrics.accuracy DESC", "page_size": "100"}
FILTERED = {"filter": "params.lr < 0.01 AND attributes.status = 'Succeeded'", **PAGE}


def write_search(folder: Path, trials: int, points: int) -> None:
    """The files of a finished search: a random search over three parameters, a few trials pruned."""
    rng = random.Random(11)
    start = datetime(2026, 3, 1, 10, tzinfo=UTC)
    profile = {
        "name": "bench-search",
        "objective": {"metric": "accuracy", "goal": "maximize"},
        "searchSpace": {"lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]}},
        "tuner": {"name": "random"},
        "maxTrialNum": trials,
        "trialConcurrency": 8,
        "maxExecSeconds": 86_400,
        "status": "DONE",
        "start": start.isoformat(),
        "end": (start + timedelta(seconds=trials * 30)).isoformat(),
    }
    (folder / "profile.json").write_text(json.dumps(profile))
    for number in range(trials):
        lr, layers, optimizer = 10 ** rng.uniform(-4, -1), rng.randint(1, 6), rng.choice(["adam", "sgd"])
        pruned = rng.random() < 0.2
        shown = points // 3 if pruned else points
        curve = [
            {"step": step, "value": round(0.9 * (1 - 1 / (step + 2)) * (1 - abs(lr - 0.01)), 6)}
            for step in range(shown)
        ]
        began = start + timedelta(seconds=number * 30)
        metadata = {
            "id": number,
            "parameters": {"lr": lr, "layers": layers, "optimizer": optimizer},
            "status": "Pruned" if pruned else "Succeeded",
            "start": began.isoformat(),
            "end": (began + timedelta(seconds=rng.uniform(20, 40))).isoformat(),
        }
        trial = folder / "trials" / str(number)
        trial.mkdir(parents=True)
        (trial / "metadata.json").write_text(json.dumps(metadata))
        final = None if pruned else curve[-1]["value"]
        (trial / "metrics.yaml").write_text(json.dumps({"final": final, "intermediate": curve}))


def store_search(folder: Path, parent: Any, by: Any) -> Any:
    """An AutoTune node (index pending) holding the files: what committing an upload makes, without the
    enqueue, which the bench runs itself."""
    from django.db import transaction

    from em.models import Kind
    from em.models.autotune import AutoTune
    from em.services import blobs, uploads
    from em.services.nodes import create_node

    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        blobs.receive(sha256, io.BytesIO(data), by=by, length=len(data))
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
        files.append({"path": path.relative_to(folder).as_posix(), "size": len(data), "sha256": sha256, "mtime": mtime})
    entries = uploads.validate_files(files)
    with transaction.atomic():
        node = create_node(parent=parent, name=folder.name, kind=Kind.AUTOTUNE, by=by)
        node.manifest = uploads.manifest_for(entries)
        node.save(update_fields=["manifest"])
        AutoTune.objects.create(node=node)
    return node


def median_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def bench_index(people: fixtures.People, trials: int, points: int) -> Iterator[Result]:
    from em.models.autotune import AutoTune, Trial
    from em.tasks import index_autotune

    with tempfile.TemporaryDirectory(prefix="em-bench-autotune-") as scratch:
        folder = Path(scratch) / "bench-search"
        folder.mkdir()
        start = time.perf_counter()
        write_search(folder, trials, points)
        node = store_search(folder, people.root, people.alice)
        yield Result("search_write_and_store", round(time.perf_counter() - start, 1), "s")
        yield Result("search_files", sum(1 for p in folder.rglob("*") if p.is_file()), "files")
    start = time.perf_counter()
    index_autotune(str(node.pk))
    elapsed = time.perf_counter() - start
    row = AutoTune.objects.get(pk=node.pk)
    assert row.index_state == "indexed", row.index_errors
    assert Trial.objects.filter(autotune=row).count() == trials
    yield Result(f"index_{trials}_trials_x_{points}_points", round(elapsed, 2), "s", 5)
    start = time.perf_counter()
    index_autotune(str(node.pk))
    yield Result("reindex_same_search", round(time.perf_counter() - start, 2), "s", 5)


def bench_reads(people: fixtures.People, node_id: str, repeat: int) -> Iterator[Result]:
    from em.autotune import selectors
    from em.models.autotune import AutoTune

    row = AutoTune.objects.get(pk=node_id)
    page = {"order_by": PAGE["order_by"]}
    yield Result(
        "trials_page_in_process",
        median_ms(lambda: [selectors.present(t) for t in selectors.trials(row, **page)[:100]], repeat),
        "ms",
        100,
    )
    yield Result("charts_in_process", median_ms(lambda: selectors.charts(row), repeat), "ms")
    server = start_em(REPO)
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {people.key}"
        base = f"{server.url}/api/v1/autotune/{node_id}"

        def get(path: str, params: dict[str, str] | None = None) -> None:
            answer = session.get(base + path, params=params, timeout=60)
            assert answer.status_code == 200, answer.text[:300]

        get("/trials", PAGE)  # warm the worker processes
        get("/trials", PAGE)
        yield Result("trials_page_http", median_ms(lambda: get("/trials", PAGE), repeat), "ms", 100)
        yield Result("trials_page_filtered_http", median_ms(lambda: get("/trials", FILTERED), repeat), "ms", 100)
        yield Result("summary_http", median_ms(lambda: get(""), repeat), "ms")
        yield Result("charts_http", median_ms(lambda: get("/charts"), repeat), "ms")
        yield Result("trial_intermediate_http", median_ms(lambda: get("/trials/7"), repeat), "ms")
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("EM_BENCH_AUTOTUNE_DATABASE_URL", DEFAULT_URL),
        help="PostgreSQL database to DROP and recreate (its name must contain 'bench')",
    )
    parser.add_argument("--trials", type=int, default=2_000, help="trials in the search")
    parser.add_argument("--points", type=int, default=100, help="intermediate values per trial")
    parser.add_argument("--repeat", type=int, default=10, help="runs of each read")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    recreate_database(args.database_url)
    setup_django(args.database_url)
    people = fixtures.make_people()
    results = [Result("load_average_1min_at_start", round(os.getloadavg()[0], 2), "runnable")]
    indexing = bench_index(people, args.trials, args.points)
    results.extend(indexing)
    from em.models.autotune import AutoTune

    node_id = str(AutoTune.objects.get().pk)
    results.extend(bench_reads(people, node_id, args.repeat))
    results.append(Result("bench_total", round(time.perf_counter() - started, 1), "s"))
    print("\n".join(r.as_json() for r in results) if args.json else render(results))
    return 1 if any(r.verdict == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""EM's run measurements, each against the budget of ARCHITECTURE.md §6 where it names one.

In-process measurements call the real functions (`em.tasks.index_run`, `em.runs.metrics.read`,
`em.runs.selectors.search_runs`); HTTP measurements go through a real gunicorn server on 127.0.0.1 with a
real API key, as the SDK and the portal would. Repeated measurements report the median after a warm-up.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import requests
from tree import Result, median_ms

from _runs import bundle, fixtures
from _runs.server import Server

LIVE_BATCH = 10_000
LIVE_KEYS = ("train.loss", "train.accuracy", "train.lr", "train.grad_norm")
SERIES_POINTS = 1_000_000
MAX_POINTS = 1000


def count_label(count: int) -> str:
    """1M, 100k, 200: how a size reads in a measurement's name."""
    if count >= 10**6 and count % 10**5 == 0:
        return f"{count / 10**6:g}M"
    return f"{count // 1000}k" if count >= 1000 else str(count)


def session(key: str) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {key}"
    return s


def ok(response: requests.Response) -> requests.Response:
    if response.status_code >= 300:
        raise AssertionError(f"{response.request.method} {response.url}: {response.status_code} {response.text[:500]}")
    return response


# --- Indexing ------------------------------------------------------------------------------------------


def bench_index(people: fixtures.People, total_points: int) -> Iterator[Result]:
    """Index a freshly uploaded bundle of `total_points` points, in-process as the Celery worker would."""
    from em.models import IndexState, MetricSeries, Run
    from em.tasks import index_run

    with tempfile.TemporaryDirectory(prefix="em-bench-bundle-") as scratch:
        start = time.perf_counter()
        folder = bundle.write_bundle(Path(scratch) / "bench-bundle", total_points)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        parent = fixtures.folder(people, people.root, "bundles")
        node = bundle.store_bundle(folder, parent, people.alice)
        yield Result("bundle_write_and_store", round(time.perf_counter() - start, 1), "s")
        yield Result("bundle_size", round(size / 2**20, 1), "MiB")
    start = time.perf_counter()
    index_run(str(node.pk))
    elapsed = time.perf_counter() - start
    run = Run.objects.get(pk=node.pk)
    assert run.index_state == IndexState.INDEXED, (run.index_state, run.index_errors)
    indexed = sum(MetricSeries.objects.filter(run=run).values_list("count", flat=True))
    assert indexed == total_points, f"indexed {indexed} points of {total_points}"
    yield Result(f"index_bundle_{count_label(total_points)}_points", round(elapsed, 2), "s", 5)


# --- Live logging --------------------------------------------------------------------------------------


def live_bodies(batches: int) -> list[bytes]:
    """`batches` request bodies of LIVE_BATCH points each, the steps going on from one to the next."""
    per_key = LIVE_BATCH // len(LIVE_KEYS)
    bodies = []
    for batch in range(batches):
        steps = np.arange(batch * per_key, (batch + 1) * per_key)
        timestamps = 1_772_330_400.0 + steps * 0.05
        series = {
            key: {
                "step": steps.tolist(),
                "epoch": (steps // 1000).tolist(),
                "timestamp": timestamps.tolist(),
                "value": np.round(np.abs(np.sin(steps / (100 + i))), 6).tolist(),
            }
            for i, key in enumerate(LIVE_KEYS)
        }
        bodies.append(json.dumps({"metrics": series}).encode())
    return bodies


def log_all(server: Server, key: str, run_id: str, bodies: list[bytes], start: threading.Barrier | None) -> None:
    client = session(key)
    client.headers["Content-Type"] = "application/json"
    url = f"{server.url}/api/v1/runs/{run_id}/metrics"
    ok(client.get(f"{server.url}/api/v1/runs/{run_id}"))  # connect before the clock starts
    if start is not None:
        start.wait()
    for body in bodies:
        appended = ok(client.post(url, data=body)).json()["appended"]
        assert appended == LIVE_BATCH, appended


def bench_live(people: fixtures.People, server: Server, batches: int, clients: int) -> Iterator[Result]:
    """Points per second appended through `POST /runs/<id>/metrics`, by one client, then by `clients` at once."""
    bodies = live_bodies(batches)
    live = fixtures.folder(people, people.root, "live")
    warm = fixtures.live_run(people, live, "warm-up")
    for _ in range(4):  # each gunicorn worker imports and connects on its first requests
        log_all(server, people.key, str(warm.pk), bodies[:1], None)
        warm.run.metrics.all().delete()

    one = fixtures.live_run(people, live, "one-client")
    start = time.perf_counter()
    log_all(server, people.key, str(one.pk), bodies, None)
    rate = batches * LIVE_BATCH / (time.perf_counter() - start)
    yield Result(f"live_logging_1_client_{LIVE_BATCH // 1000}k_batches", round(rate), "points/s", 200_000, "higher")

    runs = [str(fixtures.live_run(people, live, f"client-{i}").pk) for i in range(clients)]
    barrier = threading.Barrier(clients + 1)
    with ThreadPoolExecutor(clients) as pool:
        done = [pool.submit(log_all, server, people.key, run_id, bodies, barrier) for run_id in runs]
        barrier.wait()
        start = time.perf_counter()
        for future in done:
            future.result()
        rate = clients * batches * LIVE_BATCH / (time.perf_counter() - start)
    name = f"live_logging_{clients}_clients_{LIVE_BATCH // 1000}k_batches"
    yield Result(name, round(rate), "points/s", None, "higher")


# --- Metric history ------------------------------------------------------------------------------------


def bench_history(people: fixtures.People, server: Server, repeat: int) -> Iterator[Result]:
    """A 1,000,000-point series read whole and downsampled to 1,000 points, in-process and over HTTP."""
    from em.models import MetricSeries
    from em.runs import metrics

    node = fixtures.live_run(people, fixtures.folder(people, people.root, "series"), "one-million")
    steps = np.arange(SERIES_POINTS, dtype=np.int64)
    points = metrics.Points(
        steps=steps,
        epochs=steps // 10_000,
        timestamps=1_772_330_400.0 + steps * 0.05,
        values=np.abs(np.sin(steps / 5000.0)) + np.random.default_rng(1).normal(0, 0.01, SERIES_POINTS),
    )
    metrics.replace(node.run, "train.loss", points)
    series = MetricSeries.objects.get(run=node.run, key="train.loss")

    def read() -> None:
        history = metrics.read(series, max_points=MAX_POINTS)
        assert history["downsampled"], history["count"]
        assert 0 < len(history["value"]) <= MAX_POINTS, len(history["value"])

    client = session(people.key)
    url = f"{server.url}/api/v1/runs/{node.pk}/metrics/train.loss?max_points={MAX_POINTS}&x=step"

    def fetch() -> None:
        history = ok(client.get(url)).json()
        assert history["count"] == SERIES_POINTS, history["count"]
        assert 0 < len(history["value"]) <= MAX_POINTS, len(history["value"])

    yield Result("history_1M_to_1k_in_process", round(median_ms(read, repeat), 1), "ms", 50)
    yield Result("history_1M_to_1k_http", round(median_ms(fetch, repeat), 1), "ms", 50)


# --- Search and export ---------------------------------------------------------------------------------


def bench_search(people: fixtures.People, sweep: Any, server: Server, repeat: int) -> Iterator[Result]:
    """The first 100 of a three-term filter over the sweep's runs, sorted by a metric: in-process the
    selectors as the API uses them (the page's ids, then their rows with params, metrics, tags and node
    JSON, which PostgreSQL writes); over HTTP also the count of matches, which stops at the API's limit
    (1,000)."""
    from em import access
    from em.api.run_detail import search_rows
    from em.runs.selectors import search_runs

    def select() -> None:
        order = [fixtures.SEARCH_ORDER]
        folder = access.check(people.alice, sweep)  # the folder's check, as the API makes it first
        runs = search_runs(user=people.alice, filter=fixtures.SEARCH_FILTER, folder=folder, order_by=order)
        page = list(runs.values_list("pk", flat=True)[:100])  # the page's ids first, as the API takes them
        rows = search_rows(people.alice, page)
        assert len(rows) == 100, len(rows)

    client = session(people.key)
    url = (
        f"{server.url}/api/v1/runs?filter={quote(fixtures.SEARCH_FILTER)}&folder={sweep.pk}"
        f"&order_by={quote(fixtures.SEARCH_ORDER)}&page=1&page_size=100"
    )
    count: list[int] = []

    def fetch() -> None:
        body = ok(client.get(url)).json()
        assert len(body["results"]) == 100, body
        values = [row["metrics"]["val.accuracy"] for row in body["results"]]
        assert values == sorted(values, reverse=True), "not sorted by val.accuracy"
        count[:] = [body["count"], body["count_exact"]]

    runs = sweep.__class__.objects.subtree(sweep.path).filter(kind="Run").count()
    label = count_label(runs)
    yield Result(f"search_{label}_runs_3_terms_first_100_in_process", round(median_ms(select, repeat), 1), "ms", 100)
    yield Result(f"search_{label}_runs_3_terms_first_100_http", round(median_ms(fetch, repeat), 1), "ms", 100)
    # Past the API's count limit the count is a floor (`count_exact` false), as the portal shows it.
    yield Result(f"search_{label}_runs_3_terms_matches" + ("" if count[1] else "_at_least"), count[0], "runs")


def bench_export(people: fixtures.People, project: Any, server: Server, repeat: int) -> Iterator[Result]:
    """Stream the CSV of one sweep project's runs, timing its first and its last byte."""
    client = session(people.key)
    url = f"{server.url}/api/v1/runs/export.csv?folder={project.pk}"
    runs = project.__class__.objects.filter(parent=project).count()

    def download() -> tuple[float, float]:
        start = time.perf_counter()
        first, newlines = 0.0, 0
        with ok(client.get(url, stream=True)) as response:
            for chunk in response.iter_content(chunk_size=1 << 16):
                first = first or time.perf_counter() - start
                newlines += chunk.count(b"\n")
        assert newlines == runs + 1, f"{newlines} lines for {runs} runs"
        return first * 1000, (time.perf_counter() - start) * 1000

    download()  # warm-up
    firsts, totals = zip(*(download() for _ in range(repeat)), strict=True)
    label = f"export_csv_{count_label(runs)}_runs"
    yield Result(label, round(statistics.median(totals), 1), "ms")
    yield Result(f"{label}_first_byte", round(statistics.median(firsts), 1), "ms")

"""The actors of bench/load.py: writers, uploaders, movers and readers hitting one EM server at once.

Each actor is a thread with its own HTTP session and API key, looping until the stop event; every
request it makes is tallied by kind (status class, latency). An *error* is what a user must never
meet: a 5xx or a request that got no answer. A refusal (4xx) is counted apart, since under a correct
load none is expected either. Points are counted only when the server acknowledged them, so that
"points lost" (acknowledged minus read back at the end) measures the server, not the client.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import statistics
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from _runs import bundle

LIVE_KEY = "train.loss"
POINTS_PER_BATCH = 200
BUNDLE_POINTS = 40  # each uploaded bundle: 40 metric points over train and val
TIMEOUT = 60


@dataclass
class Tally:
    """What all actors did, under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    problems: Counter[str] = field(default_factory=Counter)  # "<kind> <status>: <first line>" of each error
    points_acknowledged: int = 0
    uploads: list[str] = field(default_factory=list)  # committed run ids
    moves: int = 0

    def record(self, kind: str, status: int | None, seconds: float, text: str = "") -> None:
        with self.lock:
            self.statuses[f"{kind} {'failed' if status is None else f'{status // 100}xx'}"] += 1
            self.latencies[kind].append(seconds)
            if status is None or status >= 400:
                self.problems[f"{kind} {status or 'no answer'}: {text[:160]}"] += 1

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return sum(n for name, n in self.statuses.items() if name.endswith(("5xx", "failed")))

    @property
    def refusals(self) -> int:
        return sum(n for name, n in self.statuses.items() if name.endswith("4xx"))

    def p95_ms(self, kind: str) -> float:
        times = sorted(self.latencies.get(kind) or [0.0])
        return round(1000 * times[min(len(times) - 1, int(len(times) * 0.95))], 1)

    def median_ms(self, kind: str) -> float:
        return round(1000 * statistics.median(self.latencies.get(kind) or [0.0]), 1)


class Actor:
    """One client: a session with a key, calling the API and tallying every answer."""

    def __init__(self, base: str, key: str, tally: Tally) -> None:
        self.base = base.rstrip("/") + "/api/v1/"
        self.tally = tally
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def call(self, kind: str, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        start = time.perf_counter()
        try:
            response = self.session.request(method, self.base + path, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            self.tally.record(kind, None, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
            return None
        self.tally.record(kind, response.status_code, time.perf_counter() - start, response.text)
        return response


def log_batch(actor: Actor, run_id: str, batch: int) -> None:
    """Live-log the `batch`-th batch of points to a running run (steps follow on from the batch before)."""
    first = batch * POINTS_PER_BATCH
    steps = list(range(first, first + POINTS_PER_BATCH))
    body = {"metrics": {LIVE_KEY: {"step": steps, "value": [1.0 / (1 + s) for s in steps]}}}
    response = actor.call("live_log", "POST", f"runs/{run_id}/metrics", json=body)
    if response is not None and response.status_code == 200:
        with actor.tally.lock:
            actor.tally.points_acknowledged += response.json()["appended"]


def write(actor: Actor, run_id: str, stop: threading.Event) -> None:
    """Live-log batches to one running run, after the first (which setup sent), until stopped."""
    for batch in itertools.count(1):
        if stop.is_set():
            return
        log_batch(actor, run_id, batch)


def upload(actor: Actor, folder_id: str, stop: threading.Event, number: int) -> None:
    """Upload small run bundles (announce, send missing blobs, commit) into `folder_id`, until stopped."""
    for round_ in itertools.count():
        if stop.is_set():
            return
        with tempfile.TemporaryDirectory(prefix="em-load-") as scratch:
            name = f"bundle-{number}-{round_}"
            folder = bundle.write_bundle(Path(scratch) / name, BUNDLE_POINTS)
            files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        manifest = [
            {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "mtime": None}
            for path, data in sorted(files.items())
        ]
        body = {"kind": "Run", "parent": folder_id, "name": name, "conflict_strategy": "new", "files": manifest}
        started = actor.call("upload_start", "POST", "uploads", json=body)
        if started is None or started.status_code != 201:
            continue
        by_digest = {hashlib.sha256(data).hexdigest(): data for data in files.values()}
        for digest in started.json()["missing"]:
            actor.call("blob_put", "PUT", f"blobs/{digest}", data=by_digest[digest])
        committed = actor.call("upload_commit", "POST", f"uploads/{started.json()['id']}/commit")
        if committed is not None and committed.status_code in (200, 201):
            with actor.tally.lock:
                actor.tally.uploads.append(committed.json()["node"]["id"])


def move(actor: Actor, moving_id: str, places: list[str], stop: threading.Event) -> None:
    """Move the folder holding the runs back and forth between `places`, until stopped."""
    for i in itertools.count():
        if stop.is_set():
            return
        response = actor.call("move", "POST", f"nodes/{moving_id}/move", json={"destination": places[i % 2]})
        if response is not None and response.status_code == 200:
            with actor.tally.lock:
                actor.tally.moves += 1


def read(actor: Actor, run_ids: list[str], scope_id: str, stop: threading.Event, seed: int) -> None:
    """Read what a person watching the runs reads: run detail, metric history, search, the node."""
    pick = random.Random(seed)  # a workload mix, not a secret
    while not stop.is_set():
        run_id = pick.choice(run_ids)
        actor.call("run_detail", "GET", f"runs/{run_id}")
        actor.call("history", "GET", f"runs/{run_id}/metrics/{LIVE_KEY}", params={"max_points": 500})
        actor.call("search", "GET", "runs", params={"folder": scope_id, "filter": "metrics.train.loss < 1"})
        actor.call("node", "GET", f"nodes/{run_id}")


def points_stored(actor: Actor, run_id: str) -> int:
    """Points in every series of a run, as its detail reports them (what a reader gets back)."""
    response = actor.call("read_back", "GET", f"runs/{run_id}")
    if response is None or response.status_code != 200:
        return 0
    return sum(summary["count"] for summary in response.json()["metrics"].values())


def wait_indexed(actor: Actor, run_ids: list[str], timeout: float) -> dict[str, str]:
    """Each uploaded run's index state once none is pending (or `timeout` passes)."""
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    while True:
        for run_id in run_ids:
            if states.get(run_id) in (None, "pending"):
                response = actor.call("read_back", "GET", f"runs/{run_id}")
                if response is not None and response.status_code == 200:
                    states[run_id] = response.json()["index_state"]
        if all(states.get(r) not in (None, "pending") for r in run_ids) or time.monotonic() > deadline:
            return states
        time.sleep(0.5)


def stamp() -> str:
    return datetime.now(UTC).strftime("%H%M%S")

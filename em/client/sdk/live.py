"""Live mode: metric points stream to the server from a background thread while the script trains.

`log()` must never wait for the network, so points go into a bounded deque of batches; the thread
drains everything queued into one columnar request (`POST runs/<id>/metrics`). When the server falls
behind, the oldest batches are dropped and counted (the bundle on disk still has every point, and
`em upload` can send it whole later). When the server goes away, streaming stops after a few failed
attempts; the run goes on, offline.
"""

from __future__ import annotations

import collections
import threading
import time
from datetime import datetime
from typing import Any

from em.client import api
from em.client.errors import ClientError
from em.client.http import Client

MAX_BATCHES = 10_000  # queued log() calls before the oldest are dropped
FLUSH_INTERVAL = 0.5  # seconds between requests while points keep coming
MAX_FAILURES = 3  # consecutive failed requests before streaming gives up
RETRY_DELAY = 1.0  # seconds, doubled after each failure

Batch = tuple[str, dict[str, Any], int, int | None, float]  # stage, values, step, epoch, unix time


class LiveStream:
    """Streams batches of metric points for one server-side run until `close()`."""

    def __init__(self, client: Client, run_id: str, *, max_batches: int = MAX_BATCHES) -> None:
        self.client = client
        self.run_id = run_id
        self.sent = 0
        self.dropped = 0
        self.error: ClientError | None = None
        self._queue: collections.deque[Batch] = collections.deque()
        self._max = max_batches
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name=f"em-live-{run_id}", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self.error is None

    def put(self, stage: str, values: dict[str, Any], step: int, epoch: int | None, timestamp: str) -> None:
        """Queue one log() call; never blocks. Past the bound the oldest batch is dropped and counted."""
        if self.error is not None:
            return
        moment = datetime.fromisoformat(timestamp).timestamp()
        with self._lock:
            if len(self._queue) >= self._max:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append((stage, values, step, epoch, moment))

    def close(self, timeout: float = 30.0) -> None:
        """Send what is queued (waiting at most `timeout` seconds), then stop the thread."""
        self._closing = True
        self._wake.set()
        self._thread.join(timeout)

    def _take(self) -> list[Batch]:
        with self._lock:
            batches = list(self._queue)
            self._queue.clear()
        return batches

    def _loop(self) -> None:
        failures = 0
        pending: list[Batch] = []
        while True:
            closing = self._closing
            pending += self._take()
            if len(pending) > self._max:  # retrying while log() goes on: keep the newest
                with self._lock:
                    self.dropped += len(pending) - self._max
                pending = pending[-self._max :]
            if pending:
                body = columns(pending)
                try:
                    if body:
                        self.sent += api.append_metrics(self.client, self.run_id, body)
                    pending, failures = [], 0
                except ClientError as exc:
                    if exc.status == 400:  # this batch was refused (the bundle keeps it): go on without it
                        with self._lock:
                            self.dropped += len(pending)
                        pending = []
                        continue
                    failures += 1
                    if failures >= MAX_FAILURES or (exc.status is not None and exc.status < 500):
                        self.error = exc
                        return
                    time.sleep(RETRY_DELAY * 2 ** (failures - 1))
                    continue
            if closing:
                return
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()


def columns(batches: list[Batch]) -> dict[str, dict[str, list[Any]]]:
    """The request body: one column set per `<stage>.<name>` key, points in logging order.

    NaN and infinities are sent as the tokens `NaN`, `Infinity` and `-Infinity` (what Python's json
    writes); the live endpoint reads them as data, as the bundle keeps them.
    """
    series: dict[str, dict[str, list[Any]]] = {}
    for stage, values, step, epoch, moment in batches:
        for name, value in values.items():
            column = series.setdefault(f"{stage}.{name}", {"step": [], "epoch": [], "timestamp": [], "value": []})
            column["step"].append(step)
            column["epoch"].append(epoch)
            column["timestamp"].append(moment)
            column["value"].append(value)
    return series

"""One workload against EM and against an MLflow tracking server, side by side (`bench/runs.py --vs-mlflow`).

Both servers run on this machine at once, two worker processes each, and store into the same PostgreSQL
server (MLflow in its own database, named after EM's: `<em database>_mlflow`); each measure is taken on
EM and then on MLflow before the next, so the two halves of a ratio meet the same load. Both are driven
by plain HTTP with `requests`, one session per side, request bodies encoded before the clock starts, so
what differs is the server. MLflow is installed into its own virtual environment (kept between runs),
with its telemetry and its job runner (GenAI jobs, which tracking never uses) turned off. Each measure
starts once both servers and the database are idle (`settle`), on a new client connection.

The workload: create runs with ~10 params and 5 final metric values (MLflow: runs/create + log-batch,
its fewest calls; EM: POST /runs with the hparams and the values as the run's first points, its fewest,
and apart, as the SDK's live mode does it, POST /runs with hparams + one live-logging call), from one
client and from `--create-clients` clients at once into one folder (experiment); ingest a 100,000-point
metric (MLflow: log-batch of 1,000 metrics, its limit per call; EM: live logging in 10,000-point
batches); read that metric back whole (MLflow: get-history in pages of 25,000 as its client does; EM:
max_points=100000, in the compact form its SDK and portal ask for) and sampled to 1,000 points (MLflow:
the UI's get-history-bulk-interval; EM: max_points=1000); search `--mlflow-runs` finished runs,
bulk-loaded alike on both sides (the same names, params and metric values), with one three-term filter,
first 100 by a metric. The sampled read and the search are timed once every server thread has served
them (`WARMUPS`), and before that (`_unwarmed`, the dozen reads after the first, as this bench measured
them until then).

Beside the one-client creation rate it reports the CPU time each side's server and, apart, the database
spent per run created (`cpu_seconds`): where one side waits rather than computes, a rate ratio says little
about what many clients at once can get, and this says the most.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from argparse import Namespace
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
from tree import REPO, Result, recreate_database

from _runs import fixtures, mlflow_load
from _runs.measure import LIVE_BATCH, ok, session
from _runs.server import HOST, Server, free_port, start_em

# SQLAlchemy 2.1 reads postgresql:// with psycopg 3.
MLFLOW_REQUIREMENTS = ("mlflow>=3,<4", "psycopg[binary]")
MLFLOW_BATCH = 1000  # MLflow's MAX_METRICS_PER_BATCH
MLFLOW_HISTORY_PAGE = 25_000  # what MlflowClient.get_metric_history asks for per page
INGEST_POINTS = 100_000
EM_THREADS = 8
# Reads made before a small read (a search, a sampled history) is timed, on both sides: two for each of
# EM's server threads (2 workers x EM_THREADS), each with its own database connection. Once the 32-client
# burst has started every thread, a sequential client's requests visit them in turn, and the first such
# read on a connection costs EM ~20 ms more for a search (planning with cold catalog caches, preparing
# its statements): a dozen reads then measured mostly first reads. The figures before are reported too
# (`_unwarmed`).
WARMUPS = 2 * 2 * EM_THREADS
SAMPLED = 1000
# MLflow compares params as strings only (=, !=, LIKE), so the filter is one both languages read the same.
FILTER = "params.optimizer = 'adam' AND params.batch_size = '64' AND metrics.`val.accuracy` > 0.6"
ORDER = "metrics.`val.accuracy` DESC"


@dataclass
class Pair:
    name: str
    unit: str
    better: str
    em: float | None = None
    mlflow: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.em is None or not self.mlflow:
            return None
        return self.em / self.mlflow

    @property
    def winner(self) -> str:
        if self.ratio is None:
            return "-"
        if self.better == "same":  # a check that both sides found the same, not a speed
            return "same" if self.ratio == 1 else "DIFFER"
        em_wins = self.ratio < 1 if self.better == "lower" else self.ratio > 1
        factor = 1 / self.ratio if self.better == "lower" else self.ratio
        return f"EM {factor:.1f}x" if em_wins else f"MLflow {1 / factor:.1f}x"


# --- MLflow, installed and served -----------------------------------------------------------------------


def ensure_mlflow(venv: Path) -> Path:
    """The `mlflow` executable of `venv`, installing MLflow there first if it is not (minutes, once)."""
    marker = venv / "em-bench-requirements.txt"
    wanted = "\n".join(MLFLOW_REQUIREMENTS)
    if marker.exists() and marker.read_text() == wanted:
        return venv / "bin" / "mlflow"
    print(f"installing {', '.join(MLFLOW_REQUIREMENTS)} into {venv} (once; a few minutes)…", file=sys.stderr)
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)  # noqa: S603
    subprocess.run([*pip, *MLFLOW_REQUIREMENTS], check=True)  # noqa: S603
    marker.write_text(wanted)
    return venv / "bin" / "mlflow"


def mlflow_database_url(em_database_url: str) -> str:
    """MLflow's database beside EM's, named after it, so two benches on one server never share one."""
    parts = urlsplit(em_database_url)
    return urlunsplit(parts._replace(scheme="postgresql", path=f"{parts.path}_mlflow"))


def start_mlflow(executable: Path, em_database_url: str) -> Server:
    url = mlflow_database_url(em_database_url)
    recreate_database(url)
    artifacts = Path(tempfile.mkdtemp(prefix="mlflow-bench-artifacts-"))
    port = free_port()
    env = {
        "PATH": f"{executable.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(Path.home()),
        "MLFLOW_DISABLE_TELEMETRY": "true",  # it would phone home; this bench talks only to 127.0.0.1
        # Enough database connections for the clients that create runs at once (its default pool of 5 + 10
        # per worker times out under 32 of them).
        "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "20",
        "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "20",
        "DO_NOT_TRACK": "true",
        # MLflow 3 starts a job runner beside the tracking server (huey consumers for GenAI jobs: prompt
        # optimisation, scorers), which polls the database while idle: seven processes that took ~26% of a
        # core here doing nothing, on a 2-core machine where both servers and the client share the CPU.
        # Tracking never uses it, and it slowed whichever side was being measured.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    argv = [
        str(executable),
        "server",
        "--backend-store-uri",
        url,
        "--default-artifact-root",
        artifacts.as_uri(),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    server = Server("mlflow", argv, port, env, artifacts)
    server.wait_ready("/health", timeout=300)  # the first start migrates the database
    return server


# --- The two sides --------------------------------------------------------------------------------------


def run_specs(count: int) -> list[tuple[str, dict[str, Any], dict[str, float]]]:
    rng = random.Random(11)
    return [
        (
            f"run-{i:05d}",
            fixtures.hyperparameters(rng, i),
            {key: latest for key, (_, _, latest) in fixtures.metric_summaries(rng).items()},
        )
        for i in range(count)
    ]


def ingest_points() -> tuple[list[int], list[float], list[float]]:
    steps = list(range(INGEST_POINTS))
    return steps, [1_772_330_400.0 + s * 0.05 for s in steps], [1.0 / (1 + s / 1000) for s in steps]


Spec = tuple[str, dict[str, Any], dict[str, float]]


class MlflowSide:
    def __init__(self, server: Server, database_url: str, searched: list[Spec]) -> None:
        self.server = server
        self.api = f"{server.url}/api/2.0/mlflow"
        self.ajax = f"{server.url}/ajax-api/2.0/mlflow"
        self.http = requests.Session()
        self.experiment = self.new_experiment("bench")
        self.searched = self.new_experiment("bench-search")
        self.database_url = database_url
        mlflow_load.load_runs(database_url, self.searched, searched)

    def tidy(self) -> None:
        """VACUUM ANALYZE MLflow's database (see `workload`)."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")

    def new_experiment(self, name: str) -> str:
        return str(ok(self.http.post(f"{self.api}/experiments/create", json={"name": name})).json()["experiment_id"])

    def new_client(self) -> requests.Session:
        return requests.Session()

    def create_run(self, name: str, http: requests.Session | None = None) -> str:
        body = {"experiment_id": self.experiment, "run_name": name, "start_time": int(time.time() * 1000)}
        answer = ok((http or self.http).post(f"{self.api}/runs/create", json=body))
        return str(answer.json()["run"]["info"]["run_id"])

    def create_runs(self, specs: list[Spec], http: requests.Session | None = None) -> None:
        from em.runs.services import flatten

        http = http or self.http
        now = int(time.time() * 1000)
        for name, hparams, final in specs:
            run_id = self.create_run(name, http)
            batch = {
                "run_id": run_id,
                "params": [{"key": k, "value": str(v)} for k, v in flatten(hparams)],  # as mlflow.log_params
                "metrics": [{"key": k, "value": v, "timestamp": now, "step": 999} for k, v in final.items()],
            }
            ok(http.post(f"{self.api}/runs/log-batch", json=batch))

    def ingest_bodies(self, run_id: str) -> list[bytes]:
        steps, timestamps, values = ingest_points()
        return [
            json.dumps(
                {
                    "run_id": run_id,
                    "metrics": [
                        {"key": "train.loss", "value": values[i], "timestamp": int(timestamps[i] * 1000), "step": i}
                        for i in range(start, start + MLFLOW_BATCH)
                    ],
                }
            ).encode()
            for start in range(0, len(steps), MLFLOW_BATCH)
        ]

    def ingest(self, bodies: list[bytes]) -> None:
        for body in bodies:
            ok(self.http.post(f"{self.api}/runs/log-batch", data=body, headers={"Content-Type": "application/json"}))

    def history(self, run_id: str) -> int:
        count, token = 0, None
        while True:
            query: dict[str, Any] = {"run_id": run_id, "metric_key": "train.loss", "max_results": MLFLOW_HISTORY_PAGE}
            if token:
                query["page_token"] = token
            page = ok(self.http.get(f"{self.api}/metrics/get-history", params=query)).json()
            count += len(page.get("metrics", []))
            token = page.get("next_page_token")
            if not token:
                return count

    def sampled(self, run_id: str) -> int:
        query = {"run_ids": run_id, "metric_key": "train.loss", "max_results": SAMPLED}
        return len(ok(self.http.get(f"{self.ajax}/metrics/get-history-bulk-interval", params=query)).json()["metrics"])

    def search(self) -> list[float]:
        body = {"experiment_ids": [self.searched], "filter": FILTER, "order_by": [ORDER], "max_results": 100}
        runs = ok(self.http.post(f"{self.api}/runs/search", json=body)).json().get("runs", [])
        return [next(m["value"] for m in r["data"]["metrics"] if m["key"] == "val.accuracy") for r in runs]


class EmSide:
    def __init__(self, server: Server, people: fixtures.People, searched: list[Spec]) -> None:
        self.server = server
        self.url = f"{server.url}/api/v1"
        self.key = people.key
        self.http = session(people.key)
        self.folder = fixtures.folder(people, people.root, "vs-mlflow")
        self.searched = fixtures.folder(people, people.root, "vs-mlflow-search")
        fixtures.load_runs(people, self.searched, searched)

    def new_client(self) -> requests.Session:
        return session(self.key)

    def tidy(self) -> None:
        """VACUUM ANALYZE EM's database (see `workload`)."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    def create_run(self, name: str, hparams: dict[str, Any] | None = None, http: requests.Session | None = None) -> str:
        body = {"parent": str(self.folder.pk), "name": name, "hparams": hparams or {}}
        return str(ok((http or self.http).post(f"{self.url}/runs", json=body)).json()["id"])

    def create_runs(self, specs: list[Spec], http: requests.Session | None = None, *, calls: int = 1) -> None:
        """One call a run (its final values as its first points), or `calls=2` as the SDK's live mode
        does it: the run, then one live-logging call."""
        http = http or self.http
        now = time.time()
        for name, hparams, final in specs:
            metrics = {k: {"step": [999], "epoch": [None], "timestamp": [now], "value": [v]} for k, v in final.items()}
            if calls == 1:
                body = {"parent": str(self.folder.pk), "name": name, "hparams": hparams, "metrics": metrics}
                ok(http.post(f"{self.url}/runs", json=body))
                continue
            run_id = self.create_run(name, hparams, http)
            ok(http.post(f"{self.url}/runs/{run_id}/metrics", json={"metrics": metrics}))

    def ingest_bodies(self, run_id: str) -> list[bytes]:
        steps, timestamps, values = ingest_points()
        return [
            json.dumps(
                {
                    "metrics": {
                        "train.loss": {
                            "step": steps[start : start + LIVE_BATCH],
                            "epoch": [None] * len(steps[start : start + LIVE_BATCH]),
                            "timestamp": timestamps[start : start + LIVE_BATCH],
                            "value": values[start : start + LIVE_BATCH],
                        }
                    }
                }
            ).encode()
            for start in range(0, len(steps), LIVE_BATCH)
        ]

    def ingest_to(self, run_id: str) -> Callable[[list[bytes]], None]:
        def ingest(bodies: list[bytes]) -> None:
            for body in bodies:
                headers = {"Content-Type": "application/json"}
                ok(self.http.post(f"{self.url}/runs/{run_id}/metrics", data=body, headers=headers))

        return ingest

    def history(self, run_id: str, max_points: int = INGEST_POINTS) -> int:
        """The whole series by default (the endpoint returns up to `max_points` points, 1,000 if unsaid), in
        the compact form the SDK and the portal ask for, read as the SDK reads it."""
        from em.client.sdk.history import ACCEPT, decode

        query = {"max_points": max_points}
        url = f"{self.url}/runs/{run_id}/metrics/train.loss"
        answer = ok(self.http.get(url, params=query, headers={"Accept": ACCEPT}))
        return len(decode(answer.content)[0]["value"])

    def search(self) -> list[float]:
        query = {"filter": FILTER, "folder": str(self.searched.pk), "order_by": ORDER, "page_size": 100}
        rows = ok(self.http.get(f"{self.url}/runs", params=query)).json()["results"]
        return [row["metrics"]["val.accuracy"] for row in rows]


# --- Measuring ------------------------------------------------------------------------------------------


def seconds(operation: Callable[[], Any]) -> float:
    start = time.perf_counter()
    operation()
    return time.perf_counter() - start


def cpu_seconds(group: int) -> tuple[float, float]:
    """CPU time (user + system) used so far by the processes of session `group` (a server and the workers
    it forked), and by every PostgreSQL process, from /proc. Only the side being measured is busy, so the
    difference over a measure is what that side's server and its database spent on it. A database
    connection closed during the measure takes its time along (both sides keep theirs open)."""
    server = database = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        if int(fields[3]) == group:
            server += ticks
        elif name.startswith(("postgres", "postmaster")):
            database += ticks
    tick = os.sysconf("SC_CLK_TCK")
    return server / tick, database / tick


def median_ms(operation: Callable[[], Any], repeat: int) -> float:
    operation()
    return statistics.median(seconds(operation) * 1000 for _ in range(repeat))


def before_and_after_warming(operation: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """The median ms of `operation` as it comes (after one call), then again once it has been made
    `WARMUPS` more times, so that every server thread has served it (see `WARMUPS`)."""
    unwarmed = median_ms(operation, repeat)
    for _ in range(WARMUPS):
        operation()
    return unwarmed, median_ms(operation, repeat)


def create_in_parallel(side: MlflowSide | EmSide, specs: list[Spec], clients: int) -> float:
    """Seconds for `clients` clients, each with its own connection, to create `specs` between them at once."""
    shares = [specs[i::clients] for i in range(clients)]
    sessions = [side.new_client() for _ in shares]
    start = threading.Barrier(clients + 1)
    failures: list[BaseException] = []

    def client(share: list[Spec], http: requests.Session) -> None:
        start.wait()
        try:
            side.create_runs(share, http)
        except BaseException as exc:  # reported below: a failed client must fail the measure
            failures.append(exc)

    threads = [threading.Thread(target=client, args=pair) for pair in zip(shares, sessions, strict=True)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began
    if failures:
        raise failures[0]
    return took


MEASURES = ("create", "history", "search")  # --only picks some: creation, ingest + history reads, search


def workload(
    side: MlflowSide | EmSide, specs: list[Spec], clients: int, repeat: int, only: Iterable[str] = MEASURES
) -> Iterator[tuple[str, float]]:
    """The workload on one side, one measure at a time: (name, value in the unit of its Pair).

    Before the reads each side's database is vacuumed and analyzed (`tidy`), as after the bulk loads: this
    machine's PostgreSQL runs with autovacuum off (`SHOW autovacuum`), so the thousands of runs the
    creation measures made stayed unvacuumed and unanalyzed, and the search read them through stale
    statistics and a visibility map that no index-only scan could trust: 36-41 ms a search where the same
    database took 28 ms once vacuumed (EM, 10,000 runs searched, 5,000 made beside them). Autovacuum
    would have done this within a minute of the writes.

    Each measure starts on a new client connection (`fresh`), on both sides: in a run of EM alone, the
    session kept through the 32-client phase had its searches answered in 36 ms, and a new session on
    the same server in 25 ms, at once and again; a measure reusing a connection measured what happened
    to that connection before it."""

    def fresh() -> None:
        side.http = side.new_client()

    fresh()
    if "create" in only:
        group = os.getpgid(side.server.process.pid)
        server, database = cpu_seconds(group)
        took = seconds(lambda: side.create_runs(specs))
        server_after, database_after = cpu_seconds(group)
        yield "create_runs", len(specs) / took
        yield "create_cpu", (server_after - server) * 1000 / len(specs)
        yield "create_cpu_database", (database_after - database) * 1000 / len(specs)
        parallel = [(f"par-{name}", hparams, final) for name, hparams, final in specs]
        yield "create_runs_parallel", len(parallel) / create_in_parallel(side, parallel, clients)
        if isinstance(side, EmSide):  # MLflow has one way, two calls: its figure above is the one to compare
            fresh()
            two = [(f"two-{name}", hparams, final) for name, hparams, final in specs]
            yield "create_runs_two_calls", len(two) / seconds(lambda: side.create_runs(two, calls=2))
    if "history" in only:
        side.tidy()
        fresh()
        run_id = side.create_run("ingest")
        bodies = side.ingest_bodies(run_id)
        ingest = side.ingest if isinstance(side, MlflowSide) else side.ingest_to(run_id)
        yield "ingest", INGEST_POINTS / seconds(lambda: ingest(bodies))
        assert side.history(run_id) == INGEST_POINTS
        yield "history_full", median_ms(lambda: side.history(run_id), max(3, repeat // 3))
        if isinstance(side, MlflowSide):
            assert 0 < side.sampled(run_id) <= SAMPLED
            unwarmed, warmed = before_and_after_warming(lambda: side.sampled(run_id), repeat)
        else:
            assert 0 < side.history(run_id, SAMPLED) <= SAMPLED
            unwarmed, warmed = before_and_after_warming(lambda: side.history(run_id, SAMPLED), repeat)
        yield "history_sampled_cold", unwarmed
        yield "history_sampled", warmed
    if "search" in only:
        side.tidy()
        fresh()
        found = side.search()
        assert found, "the search found nothing"
        assert found == sorted(found, reverse=True), found[:5]
        unwarmed, warmed = before_and_after_warming(side.search, repeat)
        yield "search_cold", unwarmed
        yield "search", warmed
        yield "search_matches", len(found)


def settle(groups: Iterable[int], *, quiet: float = 0.05, window: float = 0.5, longest: float = 30.0) -> float:
    """Wait until the servers of process `groups` and the database together use less than `quiet` of a core
    over `window` seconds (or `longest` has passed): the seconds waited. A server may still be busy after
    its client has its answers: MLflow's workers went on at 60-95% of a core for seconds after its 32
    clients had finished creating runs, which was when EM's next measure ran on the same two cores."""
    groups = list(groups)
    began = time.monotonic()

    def spent() -> float:
        return sum(sum(cpu_seconds(group)) for group in groups)

    while time.monotonic() - began < longest:
        before = spent()
        time.sleep(window)
        if spent() - before < quiet * window:
            return time.monotonic() - began
    print(f"  the servers were still busy after {longest:.0f} s; measuring anyway", file=sys.stderr)
    return longest


def interleaved(
    workloads: dict[str, Iterator[tuple[str, float]]],
    results: dict[str, dict[str, float]],
    quiet: Callable[[], object] = lambda: None,
) -> None:
    """Each measure on one side, then the same measure on the other, and so on, into `results` (which keeps
    what was measured if a side fails): on a shared machine the load changes from minute to minute, and a
    ratio is only worth what its two halves have in common. `quiet` is called before each step (`settle`)."""
    results.update({name: {} for name in workloads})
    while workloads:
        for name, steps in list(workloads.items()):
            quiet()
            step = next(steps, None)
            if step is None:
                del workloads[name]
                continue
            print(f"  {name}: {step[0]} = {step[1]:,.1f}", file=sys.stderr)
            results[name][step[0]] = step[1]


def pairs(created: int, clients: int, searched: int) -> list[Pair]:
    return [
        Pair(f"create_{created}_runs_10_params_5_metrics", "runs/s", "higher"),
        Pair(f"create_{created}_runs_em_in_two_calls", "runs/s", "higher"),
        Pair(f"create_{created}_runs_from_{clients}_clients_in_one_folder", "runs/s", "higher"),
        Pair("server_cpu_per_run_created", "ms", "lower"),
        Pair("database_cpu_per_run_created", "ms", "lower"),
        Pair(f"ingest_{INGEST_POINTS // 1000}k_points", "points/s", "higher"),
        Pair(f"history_{INGEST_POINTS // 1000}k_points_whole", "ms", "lower"),
        Pair(f"history_{INGEST_POINTS // 1000}k_points_sampled_to_{SAMPLED}", "ms", "lower"),
        Pair(f"history_{INGEST_POINTS // 1000}k_points_sampled_to_{SAMPLED}_unwarmed", "ms", "lower"),
        Pair(f"search_{searched}_runs_3_terms_first_100", "ms", "lower"),
        Pair(f"search_{searched}_runs_3_terms_first_100_unwarmed", "ms", "lower"),
        Pair("search_first_page_rows", "runs", "same"),
    ]


def render(table: list[Pair]) -> str:
    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"

    rows = [("measure", "unit", "EM", "MLflow", "EM/MLflow", "better", "faster")]
    for p in table:
        ratio = "-" if p.ratio is None else f"{p.ratio:.2f}"
        rows.append((p.name, p.unit, number(p.em), number(p.mlflow), ratio, p.better, p.winner))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.rjust(w) if 2 <= i <= 4 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def as_results(table: Iterable[Pair]) -> list[Result]:
    out = []
    for p in table:
        for side, value, unit in (("em", p.em, p.unit), ("mlflow", p.mlflow, p.unit), ("ratio", p.ratio, "EM/MLflow")):
            if value is not None:
                out.append(Result(f"vs_mlflow.{p.name}.{side}", round(value, 3), unit, None, p.better))
    return out


def run(args: Namespace, people: fixtures.People, collector: Any) -> str:
    """Both servers up at once, idle but for the side being measured; each measure taken on EM and then
    on MLflow before the next (`interleaved`); the side-by-side table."""
    specs = run_specs(args.create_runs)
    searched = run_specs(args.mlflow_runs if "search" in args.only else 0)
    table = pairs(args.create_runs, args.create_clients, args.mlflow_runs)
    keys = ("create_runs", "create_runs_two_calls", "create_runs_parallel", "create_cpu", "create_cpu_database")
    keys += ("ingest", "history_full")
    keys += ("history_sampled", "history_sampled_cold", "search", "search_cold")
    keys += ("search_matches",)
    results: dict[str, dict[str, float]] = {}

    def both() -> list[Result]:
        mlflow_server = start_mlflow(ensure_mlflow(args.mlflow_venv), args.database_url)
        # Threads as deploy/gunicorn.conf.py runs it in production; two processes, as MLflow gets.
        em_server = start_em(REPO, workers=2, threads=EM_THREADS)
        try:
            em = EmSide(em_server, people, searched)
            mlflow = MlflowSide(mlflow_server, mlflow_database_url(args.database_url), searched)
            steps = {
                side: workload(s, specs, args.create_clients, args.repeat, args.only)
                for side, s in (("em", em), ("mlflow", mlflow))
            }
            groups = [os.getpgid(server.process.pid) for server in (em_server, mlflow_server)]
            interleaved(steps, results, quiet=lambda: settle(groups))
        finally:
            em_server.stop()
            mlflow_server.stop()
        return []

    collector.add("EM and MLflow, measure by measure", both)
    for pair, key in zip(table, keys, strict=True):
        pair.em = results.get("em", {}).get(key)
        # MLflow creates a run one way (two calls): EM's two-call figure meets that same one.
        pair.mlflow = results.get("mlflow", {}).get("create_runs" if key == "create_runs_two_calls" else key)
    collector.results.extend(as_results(table))
    return render(table)

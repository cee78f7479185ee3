"""Benchmark runs and metrics against the budgets of ARCHITECTURE.md §6, on PostgreSQL.

    python bench/runs.py [--json] [--database-url postgres://postgres@127.0.0.1:5432/em_bench_runs]
                         [--points 1000000] [--runs 100000] [--live-batches 30] [--clients 8] [--repeat 10]
                         [--vs-mlflow [--mlflow-runs 10000] [--create-runs 1000] [--create-clients 32]
                                      [--only create,history,search]
                                      [--mlflow-venv bench/.mlflow-venv]]

The database named in the URL is DROPPED and created afresh (its name must contain "bench") and migrated;
DEBUG is off. What is measured, through the real code:

- indexing: a bundle of --points metric points in the layout of ARCHITECTURE.md "Bundles" (metadata,
  index, hyperparameters, metrics/train.yaml and val.yaml as the SDK appends them) is received into the
  blob store with a manifest, then `em.tasks.index_run` is timed in-process, as the Celery worker runs it;
- live logging: points per second through `POST /api/v1/runs/<id>/metrics`, batches of 10,000 points,
  from one client and from --clients threads at once (each to its own run), against
  `gunicorn em.wsgi -w 2` on a free port of 127.0.0.1 with a real API key;
- metric history: a 1,000,000-point series downsampled to 1,000 points by `em.runs.metrics.read`
  in-process and through `GET /api/v1/runs/<id>/metrics/<key>?max_points=1000`;
- search: --runs finished runs (~10 params and 5 metric summaries each, bulk-loaded with COPY keeping the
  node invariants) filtered by three terms, the first 100 sorted by a metric, through
  `em.runs.selectors.search_runs` and `GET /api/v1/runs`;
- export: `GET /api/v1/runs/export.csv` of one folder of 10,000 runs, streamed to its last byte.

By default a table is printed and the exit status is 1 if a budget is missed or a measurement could not
run (named on stderr); `--json` prints one object per line instead: `{"name", "value", "unit", "budget",
"better"}`. `--vs-mlflow` instead runs one workload against EM and against an MLflow tracking server
(installed into its own virtual environment, kept between runs; its own database `<em database>_mlflow`
on the same PostgreSQL server) through plain HTTP on both sides, measure by measure, and prints them side
by side with their ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from _runs import fixtures, measure, mlflow_compare
from _runs.server import start_em
from tree import REPO, Result, recreate_database, render, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/em_bench_runs"


class Collector:
    """Results of every measurement that ran, and the names of those that could not, with why."""

    def __init__(self) -> None:
        self.results: list[Result] = []
        self.failed: list[str] = []
        self.started = time.perf_counter()

    def add(self, name: str, measurement: Callable[[], Iterable[Result]]) -> None:
        print(f"[{time.perf_counter() - self.started:6.1f} s] {name}", file=sys.stderr)
        try:
            self.results.extend(measurement())
        except Exception as exc:  # one missing piece must not hide the other measurements
            self.failed.append(name)
            print(f"\n{name}: could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
            traceback.print_exc(limit=-3, file=sys.stderr)


def run_default(args: argparse.Namespace, people: fixtures.People, out: Collector) -> None:
    sweep: list[object] = []

    def build() -> Iterable[Result]:
        start = time.perf_counter()
        sweep.append(fixtures.build_sweep(people, args.runs))
        yield Result(f"build_{measure.count_label(args.runs)}_runs", round(time.perf_counter() - start, 1), "s")

    out.add("build search fixture", build)
    out.add("index bundle", lambda: measure.bench_index(people, args.points))
    server = start_em(REPO)
    try:
        out.add("metric history", lambda: measure.bench_history(people, server, args.repeat))
        out.add("live logging", lambda: measure.bench_live(people, server, args.live_batches, args.clients))
        if sweep:
            out.add("search", lambda: measure.bench_search(people, sweep[0], server, args.repeat))
            project = fixtures.sweep_project(sweep[0], 1)
            out.add("export", lambda: measure.bench_export(people, project, server, max(3, args.repeat // 3)))
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("EM_BENCH_RUNS_DATABASE_URL", DEFAULT_URL),
        help="PostgreSQL database to DROP and recreate (its name must contain 'bench')",
    )
    parser.add_argument("--points", type=int, default=1_000_000, help="metric points in the indexed bundle")
    parser.add_argument("--runs", type=int, default=100_000, help="runs searched (10 folders of runs/10)")
    parser.add_argument("--live-batches", type=int, default=30, help="10,000-point batches each client sends")
    parser.add_argument("--clients", type=int, default=8, help="concurrent live-logging clients")
    parser.add_argument("--repeat", type=int, default=10, help="runs of each small measurement")
    parser.add_argument("--vs-mlflow", action="store_true", help="compare with an MLflow server instead")
    parser.add_argument("--mlflow-runs", type=int, default=10_000, help="runs searched on each side (bulk-loaded)")
    parser.add_argument("--create-runs", type=int, default=1000, help="runs created through the API on each side")
    parser.add_argument("--create-clients", type=int, default=32, help="clients creating runs at once")
    parser.add_argument(
        "--only",
        type=lambda text: [m for m in text.split(",") if m],
        default=list(mlflow_compare.MEASURES),
        help=f"with --vs-mlflow, only these measures: a comma-separated subset of {','.join(mlflow_compare.MEASURES)}",
    )
    parser.add_argument(
        "--mlflow-venv", type=Path, default=REPO / "bench" / ".mlflow-venv", help="where MLflow is installed"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    recreate_database(args.database_url)
    setup_django(args.database_url)
    people = fixtures.make_people()
    out = Collector()
    # Other work on this 2-core machine skews every number: say how busy it was.
    out.results.append(Result("load_average_1min_at_start", round(os.getloadavg()[0], 2), "runnable"))
    if args.vs_mlflow:
        table = mlflow_compare.run(args, people, out)
    else:
        run_default(args, people, out)
    out.results.append(Result("bench_total", round(time.perf_counter() - started, 1), "s"))
    if args.json:
        print("\n".join(r.as_json() for r in out.results))
    else:
        print(table if args.vs_mlflow else render(out.results))
    if out.failed:
        print(f"\ncould not run: {', '.join(out.failed)}", file=sys.stderr)
    return 1 if out.failed or any(r.verdict == "FAIL" for r in out.results) else 0


if __name__ == "__main__":
    sys.exit(main())

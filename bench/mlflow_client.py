"""The same MLflow client code timed against EM's MLflow API and against an MLflow server, side by side.

    python bench/mlflow_client.py [--json] [--database-url postgres://postgres@127.0.0.1:5432/em_bench_mlflow_client]
                                  [--runs 200] [--batches 20] [--repeat 5] [--mlflow-venv bench/.mlflow-venv]

What a team's training code does, through the real `mlflow` client (`MlflowClient`, its REST store and
retries, as installed in EM's environment): create --runs runs each with 10 params and 5 metrics and
finish them (runs/create + log-batch + runs/update); log --batches batches of 1,000 metric points to one
run (log-batch, MLflow's limit per call); read that metric's whole history back (get-history, paged as
the client pages it); search the runs with a three-term filter, first 100 by a metric.

EM (gunicorn, 2 workers, its MLflow layer; the client sends an EM API key as MLFLOW_TRACKING_TOKEN) and
the MLflow tracking server (2 workers, installed into its own virtual environment by
bench/_runs/mlflow_compare.py, kept between runs) store into the same PostgreSQL server: EM into the
database the URL names (DROPPED and created afresh; its name must contain "bench"), MLflow into one of
its own named after it (`mlflow_database_url` there). The sides run one after the other, never at once
(they share the two cores). The client runs in a child process (`--workload`) with the same code for
both; only the URI and the token differ.

By default a table is printed (each measure, both sides, EM/MLflow and which is faster); `--json` prints
one object per line: `{"name", "value", "unit", "budget", "better"}`. The exit status is 1 when a side
could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tree import REPO, Result, recreate_database, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/em_bench_mlflow_client"
FILTER = "params.optimizer = 'adam' AND params.batch_size = '64' AND metrics.accuracy > 0.5"
ORDER = "metrics.accuracy DESC"
MEASURES = (  # name, unit, better
    ("create_runs", "runs/s", "higher"),
    ("log_batch", "points/s", "higher"),
    ("get_history", "ms", "lower"),
    ("search", "ms", "lower"),
    ("search_hits", "runs", "same"),
)


# --- The workload: the same client code on both sides (run in a child process) -----------------------


def workload(runs: int, batches: int, repeat: int) -> dict[str, float]:
    """Time the client against MLFLOW_TRACKING_URI; the measures by name."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    experiment = client.create_experiment(f"bench-{os.getpid()}-{time.time_ns()}")
    now = int(time.time() * 1000)
    out: dict[str, float] = {}

    start = time.perf_counter()
    for i in range(runs):
        run_id = client.create_run(experiment, run_name=f"run-{i:05d}").info.run_id
        params = {
            "optimizer": ["adam", "sgd"][i % 2],
            "batch_size": str([32, 64, 128][i % 3]),
            "lr": str(10 ** -(1 + i % 4)),
            **{f"p{k}": str(i * k) for k in range(7)},
        }
        metrics = [Metric(key, (i * 37 + k * 11) % 100 / 100, now, 100) for k, key in enumerate(_METRIC_KEYS)]
        client.log_batch(run_id, metrics=metrics, params=[Param(k, v) for k, v in params.items()])
        client.set_terminated(run_id)
    out["create_runs"] = runs / (time.perf_counter() - start)

    target = client.create_run(experiment, run_name="ingest").info.run_id
    bodies = [
        [Metric("loss", 1.0 / (1 + step / 1000), now + step, step) for step in range(b * 1000, (b + 1) * 1000)]
        for b in range(batches)
    ]
    start = time.perf_counter()
    for body in bodies:
        client.log_batch(target, metrics=body)
    out["log_batch"] = batches * 1000 / (time.perf_counter() - start)

    assert len(client.get_metric_history(target, "loss")) == batches * 1000
    out["get_history"] = _median_ms(lambda: client.get_metric_history(target, "loss"), repeat)

    found = client.search_runs([experiment], FILTER, order_by=[ORDER], max_results=100)
    values = [r.data.metrics["accuracy"] for r in found]
    assert values, "the search found nothing"
    assert values == sorted(values, reverse=True), values[:5]
    out["search"] = _median_ms(
        lambda: client.search_runs([experiment], FILTER, order_by=[ORDER], max_results=100), repeat
    )
    out["search_hits"] = len(found)
    return out


_METRIC_KEYS = ("accuracy", "loss", "precision", "recall", "f1")


def _median_ms(operation: Any, repeat: int) -> float:
    operation()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        operation()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run_workload(uri: str, token: str | None, args: argparse.Namespace) -> dict[str, float]:
    """The workload in a child process of EM's Python (where the `mlflow` client is installed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DJANGO_", "EM_"))}
    env.update({"MLFLOW_TRACKING_URI": uri, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    if token:
        env["MLFLOW_TRACKING_TOKEN"] = token
    argv = [sys.executable, __file__, "--workload", "--runs", str(args.runs), "--batches", str(args.batches)]
    done = subprocess.run(  # noqa: S603 - this script, our arguments
        [*argv, "--repeat", str(args.repeat)], env=env, capture_output=True, text=True, check=False, timeout=3600
    )
    if done.returncode != 0:
        raise RuntimeError(f"the workload failed against {uri}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Both sides and the table --------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> tuple[dict[str, dict[str, float]], list[str]]:
    from _runs import fixtures
    from _runs.mlflow_compare import ensure_mlflow, start_mlflow
    from _runs.server import start_em

    recreate_database(args.database_url)
    setup_django(args.database_url)
    people = fixtures.make_people()
    results: dict[str, dict[str, float]] = {}
    failed: list[str] = []
    sides = (
        ("em", lambda: start_em(REPO), people.key),
        ("mlflow", lambda: start_mlflow(ensure_mlflow(args.mlflow_venv), args.database_url), None),
    )
    for side, start, token in sides:
        print(f"{side} side…", file=sys.stderr)
        try:
            server = start()
        except (SystemExit, Exception) as exc:  # one side missing must not hide the other
            failed.append(f"{side}: {exc}")
            continue
        try:
            results[side] = run_workload(server.url, token, args)
        except Exception as exc:
            failed.append(f"{side}: {exc}")
        finally:
            server.stop()
    return results, failed


def table(results: dict[str, dict[str, float]], args: argparse.Namespace) -> list[list[str]]:
    em, mlflow = results.get("em", {}), results.get("mlflow", {})
    rows = [["measure", "unit", "EM", "MLflow", "EM/MLflow", "faster"]]
    labels = {
        "create_runs": f"create {args.runs} runs (10 params, 5 metrics)",
        "log_batch": f"log-batch {args.batches} x 1,000 points",
        "get_history": f"get-history of {args.batches * 1000:,} points",
        "search": f"search {args.runs} runs, 3 terms, first 100",
        "search_hits": "runs the search found",
    }
    for name, unit, better in MEASURES:
        a, b = em.get(name), mlflow.get(name)
        ratio = a / b if a is not None and b else None
        if ratio is None:
            verdict = "-"
        elif better == "same":
            verdict = "same" if ratio == 1 else "DIFFER"
        else:
            factor = ratio if better == "higher" else 1 / ratio
            verdict = f"EM {factor:.1f}x" if factor >= 1 else f"MLflow {1 / factor:.1f}x"
        rows.append([labels[name], unit, _number(a), _number(b), "-" if ratio is None else f"{ratio:.2f}", verdict])
    return rows


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def render(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.rjust(w) if 2 <= i <= 4 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def as_results(results: dict[str, dict[str, float]]) -> list[Result]:
    out = [Result("load_average_1min", round(os.getloadavg()[0], 2), "runnable")]
    for name, unit, better in MEASURES:
        for side in ("em", "mlflow"):
            if name in results.get(side, {}):
                out.append(Result(f"mlflow_client.{name}.{side}", round(results[side][name], 3), unit, None, better))
        a, b = results.get("em", {}).get(name), results.get("mlflow", {}).get(name)
        if a is not None and b:
            out.append(Result(f"mlflow_client.{name}.ratio", round(a / b, 3), "EM/MLflow", None, better))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    parser.add_argument("--database-url", default=os.environ.get("EM_BENCH_MLFLOW_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=200, help="runs created (and searched) on each side")
    parser.add_argument("--batches", type=int, default=20, help="1,000-point log-batch calls to one run")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats of each read")
    parser.add_argument("--mlflow-venv", type=Path, default=REPO / "bench" / ".mlflow-venv")
    parser.add_argument("--workload", action="store_true", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args(argv)
    if args.workload:
        print(json.dumps(workload(args.runs, args.batches, args.repeat)))
        return 0
    load = os.getloadavg()[0]
    results, failed = measure(args)
    if args.json:
        print("\n".join(r.as_json() for r in as_results(results)))
    else:
        print(render(table(results, args)))
        print(f"\nload average at start {load:.2f} (2 cores)")
    for failure in failed:
        print(f"could not run: {failure}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

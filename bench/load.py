"""Load EM with writers, movers and readers at once, and count what went wrong.

    python bench/load.py [--json] [--seconds 60] [--writers 4] [--uploaders 2] [--movers 1] [--readers 3]
                         [--database-url postgres://postgres@127.0.0.1:5432/em_bench_load]
                         [--redis-url redis://127.0.0.1:6379/12] [--gunicorn-workers 2] [--threads 4]
    python bench/load.py --url https://em.example.org --key <api key> [--seconds 60] ...

By default the database named in the URL is DROPPED and created afresh (its name must contain "bench")
and migrated, then a real `celery worker` (broker and results in --redis-url) and gunicorn (gthread,
DEBUG off) are started on a free port of 127.0.0.1, both stopped at the end. With --url the bench targets
a running server instead, as the owner of --key, and works in a new folder of that user's root.

For --seconds, at once, each in its own thread and HTTP session:
- writers live-log batches of 200 points to their own Running run (`POST /runs/<id>/metrics`);
- uploaders send small run bundles (40 metric points each) through the upload protocol — announce, PUT
  the missing blobs, commit — which the worker then indexes;
- movers move the folder holding every one of those runs back and forth between two folders;
- readers read run detail, metric history, a search over the runs and the run's node, at random.
Then the bench waits for the uploaded runs to be indexed and reads every run back.

Reported: requests, errors (any 5xx, or a request without an answer; budget 0), refusals (4xx; none is
expected, budget 0), moves, and points lost — points the server acknowledged minus points read back
(budget 0), for live logging and for uploads — with the median and 95th percentile latency of each kind
of request and the 1-minute load average at the start (other work on the machine skews every number).
A table by default, exit status 1 when a budget is missed; `--json` prints one object per line instead:
`{"name", "value", "unit", "budget", "better"}`. Errors are listed on stderr, grouped, with their text.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from _runs import traffic
from _runs.server import Server, start_celery_worker, start_em
from tree import REPO, Result, recreate_database, render, setup_django

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/em_bench_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
INDEX_WAIT = 120.0


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    parser.add_argument("--seconds", type=float, default=60, help="how long the load lasts")
    parser.add_argument("--writers", type=int, default=4, help="live-logging clients, one run each")
    parser.add_argument("--uploaders", type=int, default=2, help="clients uploading bundles")
    parser.add_argument("--movers", type=int, default=1, help="clients moving the runs' folder")
    parser.add_argument("--readers", type=int, default=3, help="clients reading runs")
    parser.add_argument("--url", help="target this running server instead of starting one")
    parser.add_argument("--key", default=os.environ.get("EM_API_KEY"), help="API key (write scope) with --url")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("EM_BENCH_LOAD_DATABASE_URL", DEFAULT_DATABASE),
        help="PostgreSQL database to DROP and recreate (its name must contain 'bench')",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("EM_BENCH_REDIS_URL", DEFAULT_REDIS), help="broker of the worker"
    )
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    args = parser.parse_args(argv)
    if args.url and not args.key:
        parser.error("--url needs --key (or EM_API_KEY): an API key of the user the bench acts as")
    return args


def made(actor: traffic.Actor, path: str, body: dict[str, Any]) -> str:
    """The id of what a setup POST made; setup must succeed, or there is nothing to measure."""
    response = actor.call("setup", "POST", path, json=body)
    if response is None or response.status_code != 201:
        raise SystemExit(f"setup POST {path} failed: {None if response is None else response.text[:500]}")
    data = response.json()
    return str(data["id"])


def world(actor: traffic.Actor, writers: int) -> dict[str, Any]:
    """/<user>/load-<time>/{a/moving/{writer-i, uploads}, b}: everything the movers carry lives in `moving`."""
    me = actor.call("setup", "GET", "me")
    if me is None or me.status_code != 200:
        raise SystemExit(f"GET /me failed: {None if me is None else me.text[:500]}")
    top = made(actor, "nodes", {"parent": me.json()["root"]["id"], "name": f"load-{traffic.stamp()}"})
    a, b = (made(actor, "nodes", {"parent": top, "name": name}) for name in ("a", "b"))
    moving = made(actor, "nodes", {"parent": a, "name": "moving"})
    uploads = made(actor, "nodes", {"parent": moving, "name": "uploads"})
    runs = [made(actor, "runs", {"parent": moving, "name": f"writer-{i}"}) for i in range(writers)]
    for run_id in runs:  # so that readers never ask for a series that does not exist yet
        traffic.log_batch(actor, run_id, 0)
    return {"top": top, "places": [b, a], "moving": moving, "uploads": uploads, "runs": runs}


def load(args: argparse.Namespace, base: str, key: str) -> list[Result]:
    tally = traffic.Tally()
    setup = traffic.Actor(base, key, tally)
    where = world(setup, args.writers)
    stop = threading.Event()

    def actor() -> traffic.Actor:
        return traffic.Actor(base, key, tally)

    jobs: list[Callable[[], None]] = [partial(traffic.write, actor(), run_id, stop) for run_id in where["runs"]]
    jobs += [partial(traffic.upload, actor(), where["uploads"], stop, i) for i in range(args.uploaders)]
    jobs += [partial(traffic.move, actor(), where["moving"], where["places"], stop) for _ in range(args.movers)]
    jobs += [partial(traffic.read, actor(), where["runs"], where["top"], stop, i) for i in range(args.readers)]
    tally.statuses.clear()  # the setup requests are not the load
    tally.latencies.clear()
    threads = [threading.Thread(target=job, daemon=True) for job in jobs]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(args.seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=traffic.TIMEOUT * 2)
    elapsed = time.perf_counter() - started
    requests, errors, refusals = tally.requests, tally.errors, tally.refusals

    checker = traffic.Actor(base, key, traffic.Tally())
    states = traffic.wait_indexed(checker, tally.uploads, INDEX_WAIT)
    live_back = sum(traffic.points_stored(checker, run_id) for run_id in where["runs"])
    upload_back = sum(traffic.points_stored(checker, run_id) for run_id in tally.uploads)
    indexed = sum(state == "indexed" for state in states.values())
    results = [
        Result("load_seconds", round(elapsed, 1), "s"),
        Result("requests", requests, "requests", None, "higher"),
        Result("requests_per_second", round(requests / elapsed, 1), "requests/s", None, "higher"),
        Result("errors_5xx_or_no_answer", errors, "requests", 0),
        Result("refusals_4xx", refusals, "requests", 0),
        Result("moves", tally.moves, "moves", None, "higher"),
        Result("live_points_acknowledged", tally.points_acknowledged, "points", None, "higher"),
        Result("live_points_lost", tally.points_acknowledged - live_back, "points", 0),
        Result("uploads_committed", len(tally.uploads), "runs", None, "higher"),
        Result("uploads_not_indexed", len(tally.uploads) - indexed, "runs", 0),
        Result("upload_points_lost", len(tally.uploads) * traffic.BUNDLE_POINTS - upload_back, "points", 0),
    ]
    for kind in ("live_log", "upload_commit", "move", "run_detail", "history", "search", "node"):
        results.append(Result(f"{kind}_median", tally.median_ms(kind), "ms"))
        results.append(Result(f"{kind}_p95", tally.p95_ms(kind), "ms"))
    for problem, count in tally.problems.most_common(15):
        print(f"{count:6d} x {problem}", file=sys.stderr)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    load_average = Result("load_average_1min_at_start", round(os.getloadavg()[0], 2), "runnable")
    servers: list[Server] = []
    try:
        if args.url:
            base, key = args.url, args.key
        else:
            recreate_database(args.database_url)
            os.environ["EM_REDIS_URL"] = args.redis_url  # read by the settings setup_django loads
            setup_django(args.database_url)
            from _runs import fixtures

            key = fixtures.make_people().key
            servers.append(start_celery_worker(REPO))
            servers.append(start_em(REPO, workers=args.gunicorn_workers, threads=args.threads))
            base = servers[-1].url
        results = [load_average, *load(args, base, key)]
    finally:
        for server in reversed(servers):
            server.stop()
    if args.json:
        print("\n".join(r.as_json() for r in results))
    else:
        print(render(results))
    return 1 if any(r.verdict == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

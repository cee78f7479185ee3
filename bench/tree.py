"""Benchmark the node tree against the budgets of ARCHITECTURE.md §6, on PostgreSQL.

    python bench/tree.py [--json] [--database-url postgres://postgres@127.0.0.1:5432/em_bench]
                         [--nodes 100000] [--repeat 20] [--big-repeat 3] [--verbose]

The database named in the URL is DROPPED and created afresh (its name must contain "bench"), migrated,
and filled with bulk inserts that keep the invariants the services keep (path = parent's path + one
5-character base-36 segment, depth, the owner of the tree's root, live names unique among siblings):

    /alice                        root, owned by alice
    /alice/big                    the measured subtree: --nodes nodes, itself included;
      wide/f-00001 …              a folder of 10,000 (empty) folders
      chain/level-03/…/level-50   a chain down to depth 50
      p0001/e01/a001 …            folders of folders of artifacts, filling up to --nodes
    /alice/dest                   where `big` is moved to (and back from)

bob is in the group `team`, which alice gave *view* on /alice/big; bob owns nothing here. Everything
measured calls the real code: `em.access.check` (as bob, on level-50), the children endpoint through DRF's
`APIClient` (as bob), `em.services.sharing.share`/`unshare` and `em.services.nodes.move_node` (as alice).
Small operations report the median of --repeat runs after one warm-up, their query counts coming from a
separate untimed run under `CaptureQueriesContext`. Subtree operations report the median of --big-repeat
runs, back to back as a user would make them (moves alternate between `dest` and the root, so later runs
meet the dead row versions earlier ones left); their few statements are captured while timed. DEBUG is
off throughout. The table is VACUUM ANALYZEd once after the load, as autovacuum would soon do.

By default a table is printed and the exit status is 1 if a budget is missed; `--json` prints one object
per line instead: `{"name", "value", "unit", "budget", "better"}`. `--verbose` adds, on stderr, every run
of each subtree operation with its slowest statements (Django's timing, 1 ms resolution). The database is
left in place afterwards, for EXPLAIN ANALYZE.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/em_bench"
WIDE_CHILDREN = 10_000
CHAIN_DEPTH = 50
EXPERIMENTS_PER_PROJECT = 10
ARTIFACTS_PER_EXPERIMENT = 100
BATCH = 5_000


@dataclass
class Result:
    name: str
    value: float
    unit: str
    budget: float | None = None
    better: str = "lower"

    @property
    def verdict(self) -> str:
        if self.budget is None:
            return "-"
        ok = self.value <= self.budget if self.better == "lower" else self.value >= self.budget
        return "pass" if ok else "FAIL"

    def as_json(self) -> str:
        return json.dumps(
            {"name": self.name, "value": self.value, "unit": self.unit, "budget": self.budget, "better": self.better}
        )


# --- Database and Django ------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    """Drop and create the database `url` names, connected to the server's `postgres` database."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in {"postgres", "postgresql"} or "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: give a postgres:// URL to a database named *bench*")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str) -> None:
    """Configure EM's base settings for `url` with DEBUG off, then migrate."""
    data_dir = Path(tempfile.mkdtemp(prefix="em-bench-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    (data_dir / "static").mkdir()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "em.settings.base",
            "EM_DATABASE_URL": url,
            "EM_DEBUG": "false",
            "EM_DATA_DIR": str(data_dir),
            "EM_ALLOWED_HOSTS": "testserver",
            "EM_LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(REPO))
    import django
    from django.core.management import call_command

    django.setup()
    from django.conf import settings

    assert not settings.DEBUG, "timing needs DEBUG off: Django would log every query"
    call_command("migrate", verbosity=0)


# --- The tree -----------------------------------------------------------------------------------------


@dataclass
class Fixture:
    alice: Any
    bob: Any
    team: Any
    reviewers: Any
    root: Any
    big: Any
    dest: Any
    wide: Any
    deep: Any
    spread: list[str]  # paths of a sample of nodes inside `big`, for nested grants


class TreeBuilder:
    """Rows for bulk_create, each child numbered after its parent's last child like `child_path` does."""

    def __init__(self, owner_id: int) -> None:
        from django.utils import timezone

        self.owner_id = owner_id
        self.now = timezone.now()
        self.rows: list[Any] = []
        self.last_child: dict[str, int] = {}

    def add(self, parent: Any, name: str, kind: str) -> Any:
        from em import tree
        from em.models import Node

        number = self.last_child.get(parent.path, 0) + 1
        self.last_child[parent.path] = number
        node = Node(
            id=uuid.uuid4(),
            parent_id=parent.id,
            path=parent.path + tree.encode(number),
            depth=parent.depth + 1,
            name=name,
            kind=kind,
            owner_id=self.owner_id,
            created_by_id=self.owner_id,
            editor_id=self.owner_id,
            labels=[],
            extra={},
            created_at=self.now,
            modified_at=self.now,
        )
        self.rows.append(node)
        return node

    def fill(self, parent: Any, count: int) -> None:
        """`count` nodes below `parent`: project folders of experiment folders of artifacts."""
        from em.models import Kind

        project = 0
        while count > 0:
            project += 1
            folder = self.add(parent, f"p{project:04d}", Kind.FOLDER)
            count -= 1
            for e in range(1, EXPERIMENTS_PER_PROJECT + 1):
                if count <= 0:
                    break
                experiment = self.add(folder, f"e{e:02d}", Kind.FOLDER)
                count -= 1
                for r in range(1, min(ARTIFACTS_PER_EXPERIMENT, count) + 1):
                    self.add(experiment, f"a{r:03d}", Kind.ARTIFACT)
                count -= min(ARTIFACTS_PER_EXPERIMENT, count)

    def insert(self) -> None:
        from django.db import transaction

        from em.models import Node

        with transaction.atomic():
            for start in range(0, len(self.rows), BATCH):
                Node.objects.bulk_create(self.rows[start : start + BATCH])


def build(nodes: int) -> Fixture:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from em.access import Level
    from em.models import Kind
    from em.services import sharing

    wide_children = min(WIDE_CHILDREN, nodes // 2)
    chain = CHAIN_DEPTH - 2  # `chain` itself at depth 2 down to depth 50
    if nodes < wide_children + chain + 3:
        raise SystemExit(f"--nodes must be at least {2 * (chain + 3)}")
    users = get_user_model().objects
    alice = users.create_user("alice", password=None)  # the post_save signal makes their roots
    bob = users.create_user("bob", password=None)
    team = Group.objects.create(name="team")
    reviewers = Group.objects.create(name="reviewers")
    bob.groups.add(team)
    from em.services.nodes import root_of

    root = root_of(alice)
    builder = TreeBuilder(alice.pk)
    big = builder.add(root, "big", Kind.FOLDER)
    dest = builder.add(root, "dest", Kind.FOLDER)
    wide = builder.add(big, "wide", Kind.FOLDER)
    for i in range(1, wide_children + 1):
        builder.add(wide, f"f-{i:05d}", Kind.FOLDER)
    deep = builder.add(big, "chain", Kind.FOLDER)
    for level in range(3, CHAIN_DEPTH + 1):
        deep = builder.add(deep, f"level-{level:02d}", Kind.FOLDER)
    builder.fill(big, nodes - 1 - (1 + wide_children) - (1 + chain))
    builder.insert()
    spread = [node.path for node in builder.rows[2::100] if node.depth > 1]
    sharing.share(node=big, to=sharing.Principal("group", group=team), level=Level.VIEW, by=alice)
    with connection.cursor() as cursor:  # what autovacuum does soon after a bulk load
        cursor.execute("VACUUM ANALYZE")
    return Fixture(alice, bob, team, reviewers, root, big, dest, wide, deep, spread)


def subtree_size(path: str) -> int:
    from em.models import Node

    return Node.objects.subtree(path).count()


# --- Measuring ----------------------------------------------------------------------------------------


def timed(operation: Callable[[], Any]) -> float:
    start = time.perf_counter()
    operation()
    return (time.perf_counter() - start) * 1000


def median_ms(operation: Callable[[], Any], repeat: int) -> float:
    operation()  # warm the caches, as a running server's would be
    return statistics.median(timed(operation) for _ in range(repeat))


def captured(operation: Callable[[], Any]) -> list[dict[str, str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        operation()
    return list(queries.captured_queries)


def report_statements(title: str, runs: list[tuple[float, list[dict[str, str]]]], top: int = 3) -> None:
    """Each run's wall time and its slowest statements as the database timed them (1 ms resolution)."""
    print(f"\n{title}", file=sys.stderr)
    for number, (total, queries) in enumerate(runs, start=1):
        print(f"  run {number}: {total:.0f} ms, {len(queries)} statements", file=sys.stderr)
        for q in sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:top]:
            print(f"    {float(q['time']) * 1000:7.0f} ms  {q['sql'][:300]}", file=sys.stderr)


def bench_check(fx: Fixture, repeat: int) -> Iterator[Result]:
    from em import access

    def check() -> None:
        assert access.check(fx.bob, fx.deep).level == access.Level.VIEW

    queries = captured(check)
    yield Result(f"access_check_depth{fx.deep.depth}_queries", len(queries), "queries", 3)
    yield Result(f"access_check_depth{fx.deep.depth}", round(median_ms(check, repeat), 3), "ms")


def bench_children(fx: Fixture, repeat: int) -> Iterator[Result]:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=fx.bob)
    url = f"/api/v1/nodes/{fx.wide.pk}/children?ordering=name"

    def first_page() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        assert len(body["results"]) == min(100, body["count"]), body

    queries = captured(first_page)
    size = fx.wide.__class__.objects.filter(parent=fx.wide).count()
    yield Result(f"list_children_{size // 1000}k_first_page", round(median_ms(first_page, repeat), 2), "ms", 50)
    yield Result(f"list_children_{size // 1000}k_first_page_queries", len(queries), "queries")


def bench_subtree(fx: Fixture, repeat: int, verbose: bool) -> Iterator[Result]:
    """Share, unshare and move the whole of `big`, timed with its statements captured (a handful)."""
    from django.contrib.auth.models import Permission

    from em.access import Level
    from em.models import Node, NodeGroupObjectPermission
    from em.services import nodes, sharing

    size = subtree_size(fx.big.path)
    label = f"{size // 1000}k" if size >= 1000 else str(size)
    reviewers = sharing.Principal("group", group=fx.reviewers)
    view = Permission.objects.get(content_type__app_label="em", codename="view_node")
    spread_ids = list(Node.objects.filter(path__in=fx.spread).values_list("pk", flat=True))
    runs: dict[str, list[tuple[float, list[dict[str, str]]]]] = {"share": [], "unshare": [], "move": []}

    def run(name: str, operation: Callable[[], Any]) -> Any:
        out: list[Any] = []
        start = time.perf_counter()
        queries = captured(lambda: out.append(operation()))
        runs[name].append(((time.perf_counter() - start) * 1000, queries))
        return out[0]

    removed = 0
    for _ in range(repeat):
        # grants made further down earlier, which unsharing at the top must remove too
        NodeGroupObjectPermission.objects.bulk_create(
            NodeGroupObjectPermission(group=fx.reviewers, permission=view, content_object_id=pk) for pk in spread_ids
        )
        big = Node.objects.get(pk=fx.big.pk)
        run("share", lambda big=big: sharing.share(node=big, to=reviewers, level=Level.EDIT, by=fx.alice))
        removed = run("unshare", lambda big=big: sharing.unshare(node=big, of=reviewers, by=fx.alice))
    assert removed == len(spread_ids) + 2, removed
    for i in range(repeat):
        big = Node.objects.get(pk=fx.big.pk)
        target = Node.objects.get(pk=(fx.dest if i % 2 == 0 else fx.root).pk)
        run("move", lambda big=big, target=target: nodes.move_node(node=big, destination=target, by=fx.alice))
        assert subtree_size(Node.objects.get(pk=big.pk).path) == size
    for name, done in runs.items():
        yield Result(f"{name}_subtree_{label}", round(statistics.median(t for t, _ in done), 1), "ms", 1000)
        yield Result(f"{name}_subtree_{label}_queries", len(done[-1][1]), "queries")
        if verbose:
            report_statements(f"{name} of a subtree of {size} nodes", done)


def render(results: list[Result]) -> str:
    def budget(r: Result) -> str:
        return "-" if r.budget is None else f"{'≤' if r.better == 'lower' else '≥'} {r.budget:g}"

    rows = [("name", "value", "unit", "budget", "result")]
    rows += [(r.name, f"{r.value:g}", r.unit, budget(r), r.verdict) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(
            cell.rjust(w) if i == 1 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("EM_BENCH_DATABASE_URL", DEFAULT_URL),
        help="PostgreSQL database to DROP and recreate (its name must contain 'bench')",
    )
    parser.add_argument("--nodes", type=int, default=100_000, help="size of the measured subtree")
    parser.add_argument("--repeat", type=int, default=20, help="runs of each small measurement")
    parser.add_argument("--big-repeat", type=int, default=3, help="runs of each subtree operation")
    parser.add_argument("--verbose", action="store_true", help="slowest statements of subtree operations")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    recreate_database(args.database_url)
    setup_django(args.database_url)
    build_start = time.perf_counter()
    fx = build(args.nodes)
    results = [Result("build_tree", round(time.perf_counter() - build_start, 1), "s", 30)]
    results += bench_check(fx, args.repeat)
    results += bench_children(fx, args.repeat)
    results += bench_subtree(fx, args.big_repeat, args.verbose)
    results.append(Result("bench_total", round(time.perf_counter() - started, 1), "s"))
    if args.json:
        print("\n".join(r.as_json() for r in results))
    else:
        print(render(results))
    return 1 if any(r.verdict == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

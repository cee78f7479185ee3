"""Benchmark artifacts and the Asset Hub against the budgets of ARCHITECTURE.md §6, on PostgreSQL.

    python bench/assets.py [--json] [--database-url postgres://postgres@127.0.0.1:5432/em_bench_assets]
                           [--files 10000] [--artifact-mb 1024] [--artifact-files 1000] [--repeat 5]

The database named in the URL is DROPPED and created afresh (its name must contain "bench") and migrated;
DEBUG is off. What is measured, through the real code:

- upload: a plain folder of --artifact-files files holding --artifact-mb MB of random bytes in all is sent
  as an artifact by the `em` client's own `Uploader` (manifest, missing blobs, PUT, commit) to
  `gunicorn em.wsgi` on a free loopback port; then sent again unchanged, and again with 1 % of its files
  rewritten. "Sent" counts the blob bodies and the manifest request (what dedup cannot save);
- commit: --files entries (blobs of alice's, inserted directly: a commit never reads bytes) staged on a
  model's `main` (`assethub.services.staging.stage`) and committed (`assethub.services.commits.commit`,
  timed); then 1 % of them staged with new content and committed on top (timed);
- diff: `assethub.services.diff.diff` of those two versions, median of --repeat.

By default a table is printed and the exit status is 1 if a budget is missed; `--json` prints one object
per line instead: `{"name", "value", "unit", "budget", "better"}`. Machines differ: the load average at
the start is reported with the numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _runs import fixtures
from _runs.server import start_em
from tree import REPO, Result, recreate_database, render, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/em_bench_assets"
CHANGED_SHARE = 0.01


def write_files(folder: Path, count: int, size: int) -> list[Path]:
    """`count` files of `size` random bytes, 100 to a subfolder, as a dataset on disk looks."""
    paths = []
    for i in range(count):
        path = folder / f"part-{i // 100:04d}" / f"file-{i:06d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
        paths.append(path)
    return paths


def upload_once(client: Any, folder: Path) -> tuple[int, int, int]:
    """(blob bytes sent, manifest bytes sent, total bytes of the folder) of one `em` upload."""
    from em.client.upload import Uploader, manifest

    files, _ = manifest(folder)
    uploader = Uploader(client, folder="bench", make_folder=True, conflict_strategy="replace")
    outcome = uploader.upload(folder, plain=True, name="dataset")
    if outcome.error:
        raise RuntimeError(outcome.error)
    return outcome.sent_bytes, len(json.dumps(files)), sum(f["size"] for f in files)


def bench_uploads(people: fixtures.People, folder: Path, paths: list[Path]) -> list[Result]:
    from em.client.http import Client

    server = start_em(REPO)
    try:
        with Client(server.url, people.key) as client:
            start = time.perf_counter()
            sent, _, total = upload_once(client, folder)
            seconds = time.perf_counter() - start
            same_blobs, same_manifest, _ = upload_once(client, folder)
            step = max(1, round(1 / CHANGED_SHARE))
            for path in paths[::step]:
                path.write_bytes(os.urandom(path.stat().st_size))
            changed_blobs, changed_manifest, _ = upload_once(client, folder)
    finally:
        server.stop()
    return [
        Result("artifact_first_upload", round(seconds, 2), "s"),
        Result("artifact_first_upload_mb_per_s", round(sent / seconds / 1e6, 1), "MB/s", better="higher"),
        Result("reupload_unchanged_sent", round((same_blobs + same_manifest) / 1e6, 3), "MB", budget=1.0),
        Result("reupload_unchanged_blob_bytes", same_blobs, "B", budget=0),
        Result(
            "reupload_1pct_changed_sent",
            round(100 * (changed_blobs + changed_manifest) / total, 2),
            "% of bytes",
            budget=1.5,
        ),
        Result("reupload_1pct_changed_blob_share", round(100 * changed_blobs / total, 2), "% of bytes"),
    ]


def fake_entries(people: fixtures.People, count: int, tag: str) -> list[dict[str, Any]]:
    """`count` entries whose blobs alice owns, inserted as rows (no bytes: commits and diffs never read them)."""
    from em.models import Blob, BlobOwner

    digests = [hashlib.sha256(f"{tag}-{i}".encode()).hexdigest() for i in range(count)]
    Blob.objects.bulk_create(
        [Blob(sha256=d, md5=d[:32], size=4096 + i % 100, storage_name=f"bench/{d}") for i, d in enumerate(digests)],
        batch_size=2000,
    )
    BlobOwner.objects.bulk_create([BlobOwner(blob_id=d, user=people.alice) for d in digests], batch_size=2000)
    mtime = "2026-03-01T10:15:19+00:00"
    return [
        {"path": f"part-{i // 100:04d}/file-{i:06d}.bin", "size": 4096 + i % 100, "sha256": d, "mtime": mtime}
        for i, d in enumerate(digests)
    ]


def bench_commit_and_diff(people: fixtures.People, count: int, repeat: int) -> list[Result]:
    from assethub.services.assets import create_asset
    from assethub.services.commits import commit
    from assethub.services.diff import diff
    from assethub.services.staging import stage
    from em.access import Checker

    first = fake_entries(people, count, "first")
    changed = fake_entries(people, max(1, round(count * CHANGED_SHARE)), "changed")
    step = max(1, round(1 / CHANGED_SHARE))
    second = [{**new, "path": old["path"]} for old, new in zip(first[::step], changed, strict=False)]
    asset = create_asset(checker=Checker(people.alice), kind="Model", name="bench-model")
    timings = []
    versions = []
    for files in (first, second):
        stage(asset=asset, by=people.alice, add=files)
        start = time.perf_counter()
        versions.append(commit(asset=asset, by=people.alice, message="bench"))
        timings.append(time.perf_counter() - start)
    diffs = []
    for _ in range(repeat):
        start = time.perf_counter()
        found = diff(versions[0], versions[1])
        diffs.append(time.perf_counter() - start)
    return [
        Result(f"commit_{count}_file_version", round(timings[0], 3), "s", budget=2.0),
        Result(f"commit_{len(second)}_changes_on_{count}_files", round(timings[1], 3), "s", budget=2.0),
        Result(f"diff_two_{count}_file_versions", round(statistics.median(diffs) * 1000, 1), "ms", budget=200),
        Result("diff_changed_files", len(found.changed), "files"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("EM_BENCH_ASSETS_DATABASE_URL", DEFAULT_URL),
        help="PostgreSQL database to DROP and recreate (its name must contain 'bench')",
    )
    parser.add_argument("--files", type=int, default=10_000, help="files in each committed version")
    parser.add_argument("--artifact-mb", type=int, default=1024, help="MB of the uploaded artifact")
    parser.add_argument("--artifact-files", type=int, default=1000, help="files of the uploaded artifact")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the diff")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    recreate_database(args.database_url)
    setup_django(args.database_url)
    people = fixtures.make_people()
    results = [Result("load_average_1min_at_start", round(os.getloadavg()[0], 2), "runnable")]
    results += bench_commit_and_diff(people, args.files, args.repeat)
    folder = Path(tempfile.mkdtemp(prefix="em-bench-artifact-"))
    try:
        size = args.artifact_mb * 1_000_000 // args.artifact_files
        results += bench_uploads(people, folder, write_files(folder, args.artifact_files, size))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    results.append(Result("bench_total", round(time.perf_counter() - started, 1), "s"))
    print("\n".join(r.as_json() for r in results) if args.json else render(results))
    return 1 if any(r.verdict == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

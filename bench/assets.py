"""Benchmark artifacts and the Asset Hub against the budgets of ARCHITECTURE.md §6, on PostgreSQL.

    python bench/assets.py [--json] [--database-url postgres://postgres@127.0.0.1:5432/em_bench_assets]
                           [--files 10000] [--size-mb 1024] [--artifact-mb N] [--artifact-files 1000]
                           [--s3-size-mb 256] [--repeat 5]

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
- throughput: one file of --size-mb MB (random bytes, in a temporary folder) uploaded by the `Uploader`
  to gunicorn with the file store (hash, announce, PUT, commit) and downloaded back by the client's
  `download` (streamed to a file, renamed into place), each against `shutil.copyfile` of the same file on
  the same disk, fsynced (the raw copy speed: the median of a copy before, between and after the
  transfers, since the disk is shared), as ratios; then the same file uploaded again (bytes sent: 0).
  The download is fsynced too; the server's landing of the upload is not (as in service).
- S3 (--s3-size-mb > 0): moto's standalone server started on loopback and a second gunicorn with
  `EM_STORAGE=s3` pointed at it; a file of --s3-size-mb MB goes up through presigned multipart URLs
  (64 MiB parts) and is verified by EM (read back from the bucket), then comes down through the 302 to a
  presigned GET; the same ratios against the disk copy, and the seconds of the upload spent in EM's
  verification (join, read back, copy in the bucket). moto keeps objects in its own process memory and
  copies them there, so these are lower bounds of what a real bucket gives.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _runs import fixtures
from _runs.server import HOST, Server, free_port, start_em
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


def copy_speed(source: Path) -> float:
    """MB/s of `shutil.copyfile` of `source` beside itself (the same disk), flushed to it (fsync)."""
    target = source.with_name(source.name + ".copy")
    start = time.perf_counter()
    shutil.copyfile(source, target)
    with target.open("rb") as handle:
        os.fsync(handle.fileno())
    seconds = time.perf_counter() - start
    target.unlink()
    return source.stat().st_size / seconds / 1e6


@dataclass
class Speeds:
    """One file's trip through EM: MB/s up and down, seconds of the upload spent in the server's
    verification of presigned transfers, blob bytes sent uploading it again, and the raw copy speed
    (the median of one copy before, between and after the transfers: the disk is shared and noisy)."""

    up: float
    down: float
    verify_s: float
    resent: int
    copy: float


def transfer_speeds(client: Any, folder: Path, name: str) -> Speeds:
    """Upload the one file in `folder` with the `em` client's `Uploader`, download it back with its
    `download` (written and fsynced), and upload it again."""
    from rich.console import Console

    from em.client.download import download
    from em.client.upload import Uploader

    quiet = Console(file=open(os.devnull, "w"))  # noqa: SIM115 - no progress bars in the table
    source = next(folder.iterdir())
    size = source.stat().st_size
    verify = [0.0]
    request = client.request

    def timed(method: str, path: str, **kwargs: Any) -> Any:  # the completions of presigned transfers
        start = time.perf_counter()
        try:
            return request(method, path, **kwargs)
        finally:
            if path.endswith("/complete"):
                verify[0] += time.perf_counter() - start

    client.request = timed
    copies = [copy_speed(source)]
    uploader = Uploader(client, folder="bench", make_folder=True, conflict_strategy="new", console=quiet)
    start = time.perf_counter()
    outcome = uploader.upload(folder, plain=True, name=name)
    up = time.perf_counter() - start
    if outcome.error or outcome.node is None:
        raise RuntimeError(outcome.error)
    copies.append(copy_speed(source))
    target = folder.parent / f"{name}-downloaded"
    start = time.perf_counter()
    download(client, str(outcome.node["id"]), source.name, target, console=quiet)
    with target.open("rb") as handle:
        os.fsync(handle.fileno())
    down = time.perf_counter() - start
    if target.stat().st_size != size:
        raise RuntimeError(f"downloaded {target.stat().st_size} of {size} bytes")
    target.unlink()
    copies.append(copy_speed(source))
    again = uploader.upload(folder, plain=True, name=name)
    if again.error:
        raise RuntimeError(again.error)
    return Speeds(size / up / 1e6, size / down / 1e6, verify[0], again.sent_bytes, statistics.median(copies))


def throughput_results(prefix: str, speeds: Speeds) -> list[Result]:
    results = [
        Result(f"{prefix}_disk_copy_mb_per_s", round(speeds.copy, 1), "MB/s", better="higher"),
        Result(f"{prefix}_upload_mb_per_s", round(speeds.up, 1), "MB/s", better="higher"),
        Result(f"{prefix}_upload_vs_disk_copy", round(speeds.up / speeds.copy, 2), "ratio", better="higher"),
        Result(f"{prefix}_download_mb_per_s", round(speeds.down, 1), "MB/s", better="higher"),
        Result(f"{prefix}_download_vs_disk_copy", round(speeds.down / speeds.copy, 2), "ratio", better="higher"),
        Result(f"{prefix}_reupload_unchanged_blob_bytes", speeds.resent, "B", budget=0),
    ]
    if speeds.verify_s:
        results.insert(3, Result(f"{prefix}_upload_verify_s", round(speeds.verify_s, 2), "s"))
    return results


def bench_file_throughput(people: fixtures.People, size_mb: int) -> list[Result]:
    """One --size-mb file through the file store, against the raw disk copy of it."""
    from em.client.http import Client

    folder = Path(tempfile.mkdtemp(prefix="em-bench-file-"))
    try:
        write_big(folder / "one" / "weights.bin", size_mb)
        server = start_em(REPO)
        try:
            with Client(server.url, people.key) as client:
                speeds = transfer_speeds(client, folder / "one", "weights")
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return throughput_results(f"file_{size_mb}mb", speeds)


def bench_s3_throughput(people: fixtures.People, size_mb: int) -> list[Result]:
    """One --s3-size-mb file through presigned transfers to moto's server, against the raw disk copy."""
    import boto3

    from em.client.http import Client

    port = free_port()
    moto = Server("moto-s3", [str(Path(sys.executable).with_name("moto_server")), "-H", HOST, "-p", str(port)],
                  port, dict(os.environ), REPO)  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="em-bench-s3-"))
    saved = dict(os.environ)
    try:
        moto.wait_ready("/")
        s3 = {"EM_S3_ENDPOINT_URL": moto.url, "EM_S3_REGION": "us-east-1", "EM_S3_BUCKET": "em-bench",
              "EM_S3_ACCESS_KEY_ID": "bench", "EM_S3_SECRET_ACCESS_KEY": "bench"}  # fmt: skip
        boto3.client(
            "s3",
            endpoint_url=moto.url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 - moto takes any key
        ).create_bucket(Bucket="em-bench")
        write_big(folder / "one" / "weights.bin", size_mb)
        os.environ.update({"EM_STORAGE": "s3", **s3})  # for the gunicorn started next only
        server = start_em(REPO)
        os.environ.clear()
        os.environ.update(saved)
        try:
            with Client(server.url, people.key) as client:
                speeds = transfer_speeds(client, folder / "one", "weights-s3")
        finally:
            server.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        moto.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return throughput_results(f"s3_{size_mb}mb", speeds)


def write_big(path: Path, size_mb: int) -> None:
    """`size_mb` MB of random bytes at `path`, written a MB at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = 1_000_000
    with path.open("wb") as out:
        for _ in range(size_mb):
            out.write(os.urandom(chunk))


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
    parser.add_argument("--size-mb", type=int, default=1024, help="MB of the one-file throughput test (and artifact)")
    parser.add_argument("--artifact-mb", type=int, default=None, help="MB of the uploaded artifact (--size-mb)")
    parser.add_argument("--s3-size-mb", type=int, default=256, help="MB of the S3 throughput test; 0 skips it")
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
        size = (args.artifact_mb or args.size_mb) * 1_000_000 // args.artifact_files
        results += bench_uploads(people, folder, write_files(folder, args.artifact_files, size))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    results += bench_file_throughput(people, args.size_mb)
    if args.s3_size_mb > 0:
        results += bench_s3_throughput(people, args.s3_size_mb)
    results.append(Result("bench_total", round(time.perf_counter() - started, 1), "s"))
    print("\n".join(r.as_json() for r in results) if args.json else render(results))
    return 1 if any(r.verdict == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

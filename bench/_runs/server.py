"""Servers the HTTP measurements talk to: started on a free loopback port, waited for, always stopped.

Both EM (gunicorn) and MLflow run as child processes with their own environment; each is stopped by its
process id when the bench ends, whatever happened, and its output goes to a log file kept for a post-mortem.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import requests

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """A child process serving HTTP on 127.0.0.1:`port`."""

    def __init__(self, name: str, argv: Sequence[str], port: int, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                list(argv), env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        atexit.register(self.stop)

    def wait_ready(self, probe: str, timeout: float = 120, broken_for: float = 20) -> None:
        """Until `probe` answers below 500, or fail with the server's log: when the process ends, when
        `timeout` passes, or when it keeps answering errors for `broken_for` seconds (it cannot load)."""
        deadline = time.monotonic() + timeout
        first_error: float | None = None
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if requests.get(self.url + probe, timeout=5).status_code < 500:
                    return
                first_error = first_error or time.monotonic()
                if time.monotonic() - first_error > broken_for:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or busy starting
                pass
            time.sleep(0.25)
        self.stop()
        tail = self.log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{self.name} did not start on {self.url} (log {self.log}):\n{tail}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)  # the server and the workers it forked, by our child's group
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


def start_em(repo: Path, workers: int = 2, threads: int = 1) -> Server:
    """gunicorn serving EM with the settings this process was set up with (same database, data dir);
    `threads` > 1 uses the gthread worker, as deploy/gunicorn.conf.py does in production."""
    port = free_port()
    env = dict(os.environ)
    env["EM_ALLOWED_HOSTS"] = f"{HOST},localhost,testserver"
    env["PYTHONPATH"] = str(repo)
    argv = [
        str(Path(sys.executable).with_name("gunicorn")),
        "em.wsgi",
        "-w",
        str(workers),
        "-b",
        f"{HOST}:{port}",
        "--timeout",
        "300",
    ]
    if threads > 1:
        argv += ["--threads", str(threads)]
    server = Server("em-gunicorn", argv, port, env, repo)
    server.wait_ready("/healthz")
    return server


def start_celery_worker(repo: Path, queues: str = "default,index") -> Server:
    """A real `celery worker` on the broker in EM_REDIS_URL, with this process's settings (same database
    and blob directory); ready once it answers a ping. Stopped like a server, by its process group."""
    from em.celery import app

    env = dict(os.environ, PYTHONPATH=str(repo), PYTHONUNBUFFERED="1")
    hostname = f"em-bench-{os.getpid()}@localhost"
    argv = [
        sys.executable, "-m", "celery", "-A", "em.celery", "worker", "--pool=solo", "-Q", queues,
        "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=WARNING", f"--hostname={hostname}",
    ]  # fmt: skip
    worker = Server("em-celery", argv, 0, env, repo)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker.process.poll() is None:
        if any(hostname in reply for reply in app.control.ping(timeout=0.5)):
            return worker
    worker.stop()
    raise SystemExit(f"the celery worker did not answer a ping (log {worker.log}):\n{worker.log.read_text()[-3000:]}")

"""Slow request bodies do not make the web tier unresponsive (issue 9: 14 connections sending 1 byte/s).

The real gunicorn runs with deploy/gunicorn.conf.py on a free port, on embedded SQLite settings, with a
single worker: the kernel may hand every connection to one worker, so one worker alone must outlast the
slow clients. The nginx side (buffering all bodies but the blob stream) is checked as configuration,
since nginx is not part of the test machine.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SLOW_CLIENTS = 14


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthz(port: int, timeout: float) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EM_", "GUNICORN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="em.settings.base",
        EM_DATA_DIR=str(tmp_path / "data"),
        EM_DEBUG="false",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
    )
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "em.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if healthz(port, timeout=5) == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def csrf_cookie(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/accounts/login/")
        response = connection.getresponse()
        response.read()
        match = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
        assert match, response.getheaders()
        return match.group(1)
    finally:
        connection.close()


def slow_body(port: int, cookie: str) -> socket.socket:
    """A sign-in form whose body is announced as 100 kB and sent a byte at a time: Django reads a form
    body before it answers (the CSRF token is in it), so the request holds its thread for as long as
    the client dribbles."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Cookie: csrftoken=" + cookie.encode() + b"\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nu"
    )
    return sock


def test_healthz_answers_while_slow_clients_dribble_their_bodies(gunicorn: int) -> None:
    port = gunicorn
    cookie = csrf_cookie(port)
    slow = [slow_body(port, cookie) for _ in range(SLOW_CLIENTS)]
    stop = threading.Event()

    def dribble() -> None:  # a byte a second on every slow connection, as in the issue
        while not stop.wait(1.0):
            for sock in slow:
                sock.sendall(b"x")

    dribbler = threading.Thread(target=dribble, daemon=True)
    dribbler.start()
    try:
        stop.wait(2.0)  # let the worker take them all in
        answers = [healthz(port, timeout=10) for _ in range(3)]
        assert answers == [200, 200, 200]
        for sock in slow:  # the slow clients are still being served, not dropped to make room
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
    finally:
        stop.set()
        dribbler.join()
        for sock in slow:
            sock.close()


def test_gunicorn_uses_threads_enough_for_the_slow_clients() -> None:
    config: dict[str, object] = {}
    exec(compile((ROOT / "deploy" / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), config)  # noqa: S102
    assert config["worker_class"] == "gthread"
    assert isinstance(config["threads"], int) and config["threads"] > SLOW_CLIENTS


NGINX = (ROOT / "deploy" / "nginx" / "em.conf").read_text()


def locations(conf: str) -> dict[str, str]:
    """`location <pattern> { ... }` bodies by pattern (no nested braces in EM's locations)."""
    found = re.finditer(r"^\s*location\s+(.+?)\s*\{\s*$(.*?)^\s*\}\s*$", conf, flags=re.MULTILINE | re.DOTALL)
    return {m.group(1): m.group(2) for m in found}


def directive(block: str, name: str) -> str | None:
    found = re.findall(rf"^\s*{name}\s+([^;]+);", block, flags=re.MULTILINE)
    return found[-1].strip() if found else None


def server_block(conf: str) -> str:
    return conf[conf.index("listen 443") :]


def test_nginx_buffers_every_request_body_but_the_blob_stream() -> None:
    server = server_block(NGINX)
    outside_locations = re.sub(r"^\s*location\s+.+?\{\s*$.*?^\s*\}\s*$", "", server, flags=re.MULTILINE | re.DOTALL)
    assert directive(outside_locations, "proxy_request_buffering") in (None, "on")  # nginx's default: buffered
    blob = {p: b for p, b in locations(server).items() if "blobs" in p}
    assert len(blob) == 1, locations(server).keys()
    ((pattern, body),) = blob.items()
    assert "PUT" in body or pattern.startswith("~"), "only the blob stream goes unbuffered"
    assert directive(body, "proxy_request_buffering") == "off"
    assert directive(body, "client_max_body_size") is not None
    for name, block in locations(server).items():
        if name != pattern:
            assert directive(block, "proxy_request_buffering") in (None, "on"), name


def seconds(value: str | None) -> int:
    assert value is not None
    number, unit = re.fullmatch(r"(\d+)(s|m)?", value).groups()  # type: ignore[union-attr]
    return int(number) * (60 if unit == "m" else 1)


def test_nginx_times_out_slow_clients() -> None:
    server = server_block(NGINX)
    assert seconds(directive(server, "client_header_timeout")) <= 30
    assert seconds(directive(server, "client_body_timeout")) <= 60
    assert seconds(directive(server, "send_timeout")) <= 120
    assert directive(server, "limit_conn") is not None  # no one address can hold every connection
    assert "limit_conn_zone" in NGINX

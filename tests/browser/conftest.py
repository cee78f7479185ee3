"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

One Chromium is started for the package's tests and shared; each test opens fresh contexts (cookie jars), one
per user it signs in. The portal must be built: when it is not, the session builds it once
(`npm run build`, after `npm ci` when node_modules is missing). Outside CI a missing Chromium,
Playwright or npm skips these tests with how to get them; in CI (CI=true) it fails them.
Each test saves screenshots under tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.test import Client

from frontend.views import built_entry
from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
VIEWPORT = {"width": 1280, "height": 800}


def unavailable(message: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"CI must run the browser tests, but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def portal_build() -> None:
    """The built portal, building it once if needed."""
    if built_entry() is not None:
        return
    npm = shutil.which("npm")
    if npm is None:
        unavailable("the portal is not built and npm is missing: install Node.js 20+ and run `make test`")
    if not (FRONTEND / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)  # noqa: S603
    subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)  # noqa: S603
    assert built_entry() is not None, "npm run build wrote no manifest"


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for all the browser tests, closed when they are done.

    Playwright's sync API keeps an event loop running in this thread while it is started; the ORM
    calls the tests make around it are still synchronous, so Django's guard against async contexts
    is lifted for exactly that long (and never leaks into the other tests or their subprocesses).
    """
    if not CHROMIUM.exists():
        unavailable(f"needs Chromium at {CHROMIUM}: run `make chromium` (as root: apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("needs Playwright: `make install-dev` (pip install -e '.[server,dev]')")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()
        playwright.stop()


class Handling:
    """How many requests the live server is handling now, from Django's request_started and
    request_finished signals (the second comes when the answer is closed, written or not)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        request_started.connect(self.started, dispatch_uid="browser-handling-started")
        request_finished.connect(self.finished, dispatch_uid="browser-handling-finished")

    def started(self, **kwargs: Any) -> None:
        with self._lock:
            self.count += 1

    def finished(self, **kwargs: Any) -> None:
        with self._lock:
            self.count -= 1

    def wait_idle(self, timeout: float = 30) -> None:
        """Until no request is being handled: the browser may have dropped a request (a page closed, a
        fetch aborted) that the server is still answering, reading the database the test is about to
        flush (SQLite's shared cache then refuses: "database table is locked")."""
        deadline = time.monotonic() + timeout
        while self.count > 0:
            assert time.monotonic() < deadline, f"the live server still handles {self.count} request(s)"
            time.sleep(0.02)

    def close(self) -> None:
        request_started.disconnect(dispatch_uid="browser-handling-started")
        request_finished.disconnect(dispatch_uid="browser-handling-finished")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Each phase's report on the test item (`rep_call`), so a fixture's teardown can tell a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


class Trace:
    """What a page said that a failed test's report should show: script console errors and warnings,
    requests that failed and answers of 400 and above, with when they came (seconds into the test)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.lines: list[str] = []

    def watch(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("requestfailed", lambda request: self.add(f"failed {request.method} {request.url}: {request.failure}"))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.add(f"console {message.type}: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.add(f"{response.status} {response.request.method} {response.url}")

    def add(self, line: str) -> None:
        self.lines.append(f"{time.monotonic() - self.started:7.2f}s {line}")


def keep_failure(name: str, pages: list[Any], trace: Trace) -> None:
    """A screenshot of each page a failed test left open (tests/artifacts/failed-<test>-<n>.png), and what
    they said, printed into the test's report: a wait that timed out otherwise says only what it waited for."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for number, page in enumerate(pages):
        if page.is_closed():
            continue
        path = ARTIFACTS / f"failed-{name}-{number}.png"
        try:
            page.screenshot(path=str(path), full_page=False)
            print(f"page {number} at {page.url}: {path}")
        except Exception as exc:  # a crashed page must not hide the failure it explains
            print(f"page {number} at {page.url}: no screenshot ({exc})")
    print("\n".join(trace.lines) or "the pages logged no error, failed request or error answer")


@pytest.fixture
def open_portal(
    browser: Any, live_server: Any, portal_build: None, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """`open_portal(user)` → a page in a fresh context signed in as `user` (anonymous without one).

    Signing in copies a real session cookie (made by Django's test client) into the context; the
    sign-in form itself has its own test. Uncaught script errors in any page fail the test. When the
    test fails, its pages are kept as screenshots and what they logged is printed (`keep_failure`).
    """
    contexts: list[Any] = []
    pages: list[Any] = []
    errors: list[str] = []
    trace = Trace()
    handling = Handling()

    def open_portal(user: Any = None) -> Any:
        context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        trace.watch(page)
        pages.append(page)
        return page

    yield open_portal
    try:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            keep_failure(request.node.name, pages, trace)
        for context in contexts:  # no page polls any more (a live run's charts do)
            context.close()
        handling.wait_idle()  # nor is any request it sent still being answered
    finally:
        handling.close()
    assert not errors, f"script errors in the portal: {errors}"


@pytest.fixture
def timings() -> Iterator[dict[str, float]]:
    """Numbers a test measured, printed at its end (`-s` shows them)."""
    found: dict[str, float] = {}
    yield found
    if found:
        print("\n" + ", ".join(f"{k}: {v:.0f} ms" for k, v in found.items()))


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path

"""Timers the browser tests share: in-page scripts (evaluated with Playwright's `page.evaluate`) and the
time from navigation to a drawn view, seen from the page and from the test."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Drawn:
    """A view that has drawn: its element, the page's own `data-render-ms`, and the test's wall clock."""

    locator: Any
    in_page_ms: float
    wall_ms: float


def open_drawn(page: Any, url: str, selector: str, *, timeout: float = 15_000) -> Drawn:
    """Open `url` with the portal's scripts already cached (as for someone using it) and wait until the
    element `selector` carries `data-render-ms`, which the portal sets when that view has drawn."""
    page.goto("/")
    page.get_by_role("navigation", name="Main").wait_for()
    started = time.perf_counter()
    page.goto(url)
    drawn = page.locator(f"{selector}[data-render-ms]")
    drawn.wait_for(timeout=timeout)
    wall_ms = (time.perf_counter() - started) * 1000
    return Drawn(drawn, float(drawn.get_attribute("data-render-ms") or "nan"), wall_ms)


# Scrolls a virtualised table to its end one animation frame at a time; frame times in ms.
SCROLL_THROUGH = """async () => {
  const el = document.querySelector('[data-testid=vtable-scroll]');
  const frames = [];
  let last = performance.now();
  while (el.scrollTop + el.clientHeight < el.scrollHeight - 1) {
    el.scrollTop += 4000;
    await new Promise(requestAnimationFrame);
    const now = performance.now();
    frames.push(now - last);
    last = now;
  }
  frames.sort((a, b) => a - b);
  return {frames: frames.length, median: frames[frames.length >> 1], p95: frames[Math.floor(frames.length * 0.95)]};
}"""

"""In-page timers the browser tests share (evaluated with Playwright's `page.evaluate`)."""

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

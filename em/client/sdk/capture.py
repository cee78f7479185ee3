"""Console capture: while a run is open, what the script prints also goes to the bundle's `stdout.log`.

Both `sys.stdout` and `sys.stderr` are replaced by tees that write through to the original stream (the
person at the terminal sees everything as before) and append to one log file, so that the log keeps
the order in which lines were printed. Only Python-level writes are seen; a child process's output is
captured by `em run`, which owns its pipes.
"""

from __future__ import annotations

import io
import sys
import threading
from pathlib import Path
from typing import IO, Any, TextIO


class _Tee(io.TextIOBase):
    """A text stream writing to `original` and to the shared log; everything else is the original's."""

    def __init__(self, original: TextIO, log: IO[str], lock: threading.Lock) -> None:
        self.original = original
        self._log: IO[str] | None = log
        self._lock = lock

    def write(self, text: str) -> int:
        written = self.original.write(text)
        with self._lock:
            if self._log is not None and not self._log.closed:
                self._log.write(text)
        return written

    def flush(self) -> None:
        self.original.flush()

    def detach_log(self) -> None:
        with self._lock:
            self._log = None

    def isatty(self) -> bool:
        return self.original.isatty()

    def fileno(self) -> int:
        return self.original.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


class ConsoleCapture:
    """Tees stdout and stderr into `path` until `close()`; used once per run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._log = path.open("a", encoding="utf-8", buffering=1, errors="replace")
        self._stdout = _Tee(sys.stdout, self._log, self._lock)
        self._stderr = _Tee(sys.stderr, self._log, self._lock)
        sys.stdout = self._stdout
        sys.stderr = self._stderr

    def close(self) -> None:
        """Put the original streams back, unless someone replaced ours since; then just stop logging."""
        for tee, name in ((self._stdout, "stdout"), (self._stderr, "stderr")):
            tee.flush()
            tee.detach_log()
            if getattr(sys, name) is tee:
                setattr(sys, name, tee.original)
        with self._lock:
            self._log.close()

"""`git.yaml`: which code a run ran — repository, remote, branch, commit, dirtiness, entry script.

Read with the `git` command (no library dependency); a script outside any repository, or a machine
without git, simply records nothing rather than failing the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

GIT_TIMEOUT = 10.0  # seconds per git command: a hung network filesystem must not hang training


def _git(cwd: Path, *args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 (fixed git arguments, no shell)
            [git, *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _without_credentials(url: str) -> str:
    """A remote URL minus any `user:token@`, which must never end up in a bundle others can read."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def collect(cwd: Path | None = None, entrypoint: str | None = None) -> dict[str, Any] | None:
    """The repository holding `cwd` (default: the working directory), or None outside a repository.

    `entrypoint` (default `sys.argv[0]`) is recorded relative to the repository root when inside it.
    """
    cwd = (cwd or Path.cwd()).resolve()
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if not top:
        return None
    repo = Path(top)
    remote = _git(cwd, "config", "--get", "remote.origin.url") or ""
    branch = _git(cwd, "rev-parse", "--abbrev-ref", "HEAD") or ""
    commit = _git(cwd, "rev-parse", "HEAD") or ""
    status = _git(cwd, "status", "--porcelain", "--untracked-files=no")
    script = entrypoint if entrypoint is not None else (sys.argv[0] if sys.argv else "")
    return {
        "repo_path": str(repo),
        "remote_url": _without_credentials(remote),
        "branch": "" if branch == "HEAD" else branch,  # detached HEAD
        "commit": commit,
        "is_dirty": bool(status),
        "entrypoint": _relative(script, repo),
    }


def _relative(script: str, repo: Path) -> str:
    if not script or script in {"-c", "-m"}:
        return script
    path = Path(script)
    absolute = (path if path.is_absolute() else Path.cwd() / path).resolve()
    try:
        return absolute.relative_to(repo).as_posix()
    except ValueError:
        return os.fspath(script)

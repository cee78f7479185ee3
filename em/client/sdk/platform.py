"""`platform.yaml`: where a run ran — host, OS, Python, and the packages the script actually used.

Packages are read when the run finishes, not when it starts: a training script imports torch or
sklearn after `create_run`, and those are the versions that matter for reproducing it. Only packages
whose modules are imported are listed, which keeps the file short and meaningful.
"""

from __future__ import annotations

import platform as _platform
import socket
import sys
from collections.abc import Mapping
from functools import cache
from importlib import metadata
from typing import Any

# Checked in order: the first imported one names the run's framework.
FRAMEWORKS = (
    ("torch", "pytorch"),
    ("tensorflow", "tensorflow"),
    ("keras", "keras"),
    ("jax", "jax"),
    ("paddle", "paddlepaddle"),
    ("mxnet", "mxnet"),
    ("xgboost", "xgboost"),
    ("lightgbm", "lightgbm"),
    ("sklearn", "scikit-learn"),
)


def imported_packages(modules: dict[str, Any] | None = None) -> dict[str, str]:
    """{distribution name: version} for every installed distribution with an imported top-level module."""
    modules = sys.modules if modules is None else modules
    tops = {name.partition(".")[0] for name in modules if not name.startswith("_")}
    owners = _owners()
    found: dict[str, str] = {}
    for top in sorted(tops):
        for dist in owners.get(top, ()):
            if dist in found:
                continue
            version = _version(dist)
            if version is not None:
                found[dist] = version
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


@cache
def _owners() -> Mapping[str, list[str]]:
    """Top-level module → distributions, read once per process: it reads every installed package's
    RECORD (about a second in a full environment), and a script recording several runs, each read at
    start and finish, would pay that every time for a mapping that does not change while it runs."""
    return metadata.packages_distributions()


@cache
def _version(dist: str) -> str | None:
    """An installed distribution's version (None when it is gone), read once per process like `_owners`."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def framework(modules: dict[str, Any] | None = None) -> str:
    modules = sys.modules if modules is None else modules
    return next((label for module, label in FRAMEWORKS if module in modules), "")


def collect() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "os": _platform.platform(),
        "python": _platform.python_version(),
        "pypkgs": imported_packages(),
        "framework": framework(),
    }

"""EM: experiment management.

This package is both the Django project (settings, the node tree, runs) and the home of the client SDK
(`em.client`). Importing `em` must never import Django, so that `pip install em` without the `server`
extra gives a working CLI and SDK: nothing server-side is imported here. The SDK's names (`em.login`,
`em.create_run`, `em.Run`, `em.create_artifact`, `em.Artifact`, `em.create_autotune`,
`em.AutoTune`) are loaded on first use, so that the
server, which imports `em` for its settings, does not pay for the client's imports.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what editors and mypy see; at run time __getattr__ imports on first use
    from em.client.sdk.artifact import Artifact, create_artifact
    from em.client.sdk.autotune import AutoTune, create_autotune
    from em.client.sdk.run import Run, create_run, login

try:  # pyproject.toml is the one source; the client reads it the same way (em/client/version.py)
    __version__ = version("em")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

_SDK_NAMES = frozenset({"Artifact", "Run", "create_artifact", "create_run", "login"})
_AUTOTUNE_NAMES = frozenset({"AutoTune", "create_autotune"})
__all__ = ["Artifact", "AutoTune", "Run", "__version__", "create_artifact", "create_autotune", "create_run", "login"]


def __getattr__(name: str) -> Any:
    if name in _AUTOTUNE_NAMES:
        from em.client.sdk import autotune

        return getattr(autotune, name)
    if name in _SDK_NAMES:
        from em.client import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'em' has no attribute {name!r}")

"""The `em` SDK: record runs from training code as bundles, and upload them.

    import em
    with em.create_run(name="mnist", hparams={"lr": 0.1}) as run:
        run.log("train", {"loss": 0.25}, step=100, epoch=1)

The public names are loaded on first use: `em.client.upload` needs `em.client.sdk.bundle`, and
`em.client.sdk.run` needs the uploader, so importing the package must not import `run` eagerly.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what editors and mypy see; at run time __getattr__ imports on first use
    from em.client.sdk.artifact import Artifact, create_artifact
    from em.client.sdk.history import metric_histories, metric_history
    from em.client.sdk.run import Run, create_run, login

_HOMES = {
    "Artifact": "em.client.sdk.artifact",
    "create_artifact": "em.client.sdk.artifact",
    "Run": "em.client.sdk.run",
    "create_run": "em.client.sdk.run",
    "login": "em.client.sdk.run",
    "metric_history": "em.client.sdk.history",
    "metric_histories": "em.client.sdk.history",
}
__all__ = ["Artifact", "Run", "create_artifact", "create_run", "login", "metric_histories", "metric_history"]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'em.client.sdk' has no attribute {name!r}")

"""The `em` CLI and SDK: a pure-Python client of the EM server's REST API.

Everything under `em.client` must import without Django (and without the rest of the server), so that
`pip install em` without the `server` extra gives a working CLI and SDK. The layers, bottom up:

- `config`: where the server and API key come from (`~/.em/config.yaml`, overridden by environment);
- `http`: `Client`, a thin `requests` session that turns every failure into a `ClientError`;
- `api`: typed calls of the REST endpoints, shared by the CLI and the SDK;
- `upload` and `download`: moving bundles and files (manifest, missing blobs, progress bars);
- `sdk`: `em.create_run` and friends, writing run bundles from training code (`em` re-exports them);
- `render`, `cli` and `cli_runs`: the `em` command line on top.
"""

from em.client.config import Config
from em.client.errors import (
    ClientError,
    ConfigError,
    Conflict,
    NotFound,
    NotSignedIn,
    PermissionDenied,
    Unauthorized,
    Unreachable,
)
from em.client.http import Client

__all__ = [
    "Client",
    "ClientError",
    "Config",
    "ConfigError",
    "Conflict",
    "NotFound",
    "NotSignedIn",
    "PermissionDenied",
    "Unauthorized",
    "Unreachable",
]

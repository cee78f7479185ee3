"""Where the client finds its server and API key.

The saved configuration lives in `~/.em/config.yaml` (the directory can be moved with `EM_CONFIG_DIR`,
which tests and CI use); `EM_HOST` and `EM_API_KEY` override it, so that scripts and CI jobs need no
file at all. The file holds a secret, so it is written 0600, atomically (a crash never leaves half a
file), and keys this version does not know are kept when it is rewritten.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from em.client.errors import ConfigError, NotSignedIn

CONFIG_DIR_ENV = "EM_CONFIG_DIR"
HOST_ENV = "EM_HOST"
API_KEY_ENV = "EM_API_KEY"
FILE_NAME = "config.yaml"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


@dataclass(frozen=True)
class Config:
    """A server and the key to use there; either may be missing until `em login`."""

    host: str | None = None
    api_key: str | None = None

    def require(self) -> tuple[str, str]:
        """(host, api_key), or NotSignedIn saying how to get them."""
        if not self.host or not self.api_key:
            raise NotSignedIn(
                None,
                "not_signed_in",
                f"Not signed in: run em login (or set {HOST_ENV} and {API_KEY_ENV}).",
            )
        return self.host, self.api_key


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    custom = env.get(CONFIG_DIR_ENV)
    return Path(custom).expanduser() if custom else Path.home() / ".em"


def config_file(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / FILE_NAME


def normalize_host(host: str) -> str:
    """`https://em.example.com` from what people type: scheme added when missing, trailing `/` dropped.

    A bare name gets `https://`, except local addresses (`localhost:8000`), which get `http://` since a
    development server speaks plain HTTP. Raises ValueError for anything that is not an http(s) URL.
    """
    host = host.strip().rstrip("/")
    if not host:
        raise ValueError("The host must not be empty.")
    if "://" not in host:
        name = urlsplit(f"//{host}").hostname or ""
        host = f"{'http' if name in LOCAL_HOSTS else 'https'}://{host}"
    parts = urlsplit(host)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{host!r} is not an http(s) URL like https://em.example.com.")
    if parts.query or parts.fragment:
        raise ValueError(f"{host!r} should have no query or fragment.")
    return host


def _read_raw(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(None, "bad_config", f"Cannot read {path}: {exc.strerror or exc}.") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(None, "bad_config", f"{path} is not valid YAML; fix or delete it ({exc}).") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(None, "bad_config", f"{path} should hold a mapping like `host: https://...`.")
    return data


def _text(data: Mapping[str, Any], key: str, path: Path) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(None, "bad_config", f"{key} in {path} should be a string.")
    return value


def read_file(env: Mapping[str, str] | None = None) -> Config:
    """What is saved in the configuration file, ignoring the environment."""
    path = config_file(env)
    data = _read_raw(path)
    return Config(host=_text(data, "host", path), api_key=_text(data, "api_key", path))


def load(env: Mapping[str, str] | None = None) -> Config:
    """The configuration in effect: the file, with `EM_HOST` and `EM_API_KEY` taking precedence."""
    env = os.environ if env is None else env
    saved = read_file(env)
    host = env.get(HOST_ENV) or saved.host
    if host:
        try:
            host = normalize_host(host)
        except ValueError as exc:
            where = HOST_ENV if env.get(HOST_ENV) else f"host in {config_file(env)}"
            raise ConfigError(None, "bad_config", f"{where}: {exc}") from exc
    return Config(host=host or None, api_key=env.get(API_KEY_ENV) or saved.api_key)


def update(env: Mapping[str, str] | None = None, **changes: str | None) -> Path:
    """Set (or, with None, remove) keys of the saved configuration; returns the file's path."""
    path = config_file(env)
    data = _read_raw(path)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    _write_private(path, yaml.safe_dump(data, default_flow_style=False, sort_keys=True))
    return path


def _write_private(path: Path, text: str) -> None:
    """Replace `path` with `text`, readable by its owner only, never leaving a partial file."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 0600 already
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise ConfigError(None, "bad_config", f"Cannot write {path}: {exc.strerror or exc}.") from exc

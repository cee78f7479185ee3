"""The `em` CLI end to end: real commands against a live server, real API keys, a real config file.

Users and trees are made through the services; the CLI only ever sees the server over HTTP, as it
would in production. Each test gets its own config directory (EM_CONFIG_DIR) and a clean environment.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from accounts import services as account_services
from em.access import Level
from em.client import Client, ClientError, NotFound, api, config
from em.client.cli import main
from em.models import Kind
from em.services import sharing
from tests.factories import folder, root

REPO = Path(__file__).resolve().parent.parent
live = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private config directory, and no EM_* settings leaking in from the developer's shell."""
    monkeypatch.setenv(config.CONFIG_DIR_ENV, str(tmp_path / "em-config"))
    monkeypatch.delenv(config.HOST_ENV, raising=False)
    monkeypatch.delenv(config.API_KEY_ENV, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "em-config"


@pytest.fixture
def em() -> Callable[..., Result]:
    """Run `em ARGS...` in-process; the result has exit_code, stdout and stderr."""

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return run


def key_for(user: Any, name: str = "cli") -> str:
    return account_services.create_key(user=user, name=name)[1]


@pytest.fixture
def login_as(live_server: Any, em: Callable[..., Result]) -> Callable[[Any], str]:
    """Sign the CLI in as `user` through `em login`; returns the raw key."""

    def sign_in(user: Any) -> str:
        key = key_for(user, name=f"cli-{user.username}")
        result = em("login", "--host", live_server.url, "--api-key", key)
        assert result.exit_code == 0, result.output
        return key

    return sign_in


def names(output: str) -> list[str]:
    """The first column of a listing, without the header, rule and the `/` after folder names."""
    rows = [line.split() for line in output.splitlines()[2:] if line.strip()]
    return [row[0].rstrip("/") for row in rows]


def field(output: str, key: str) -> str:
    """The value on a `describe` line `key    value`."""
    line = next(line for line in output.splitlines() if line.startswith(f"{key}  "))
    return line[len(key) :].strip()


# --- packaging --------------------------------------------------------------------------------------


def test_client_never_imports_django() -> None:
    code = (
        "import sys, em.client, em.client.cli; "
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'rest_framework'}); "
        "assert not leaked, leaked"
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_absolute_paths() -> None:
    assert api.absolute("em-examples", "/alice") == "/alice/em-examples"
    assert api.absolute("a/b/", "/alice") == "/alice/a/b"
    assert api.absolute("a/../b", "/alice") == "/alice/b"
    assert api.absolute("/bob/x", "/alice") == "/bob/x"
    assert api.absolute("", "/alice") == "/alice"


def test_hosts_are_normalized() -> None:
    assert config.normalize_host("em.example.com/") == "https://em.example.com"
    assert config.normalize_host("localhost:8000") == "http://localhost:8000"
    assert config.normalize_host("http://10.0.0.5:8000") == "http://10.0.0.5:8000"
    with pytest.raises(ValueError, match="http"):
        config.normalize_host("ftp://em.example.com")


# --- login and logout -------------------------------------------------------------------------------


@live
def test_login_checks_the_key_and_saves_it_privately(live_server, alice, em, config_dir):
    key = key_for(alice)
    result = em("login", "--host", live_server.url + "/", "--api-key", key)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Signed in to {live_server.url} as alice"
    saved = config_dir / "config.yaml"
    assert yaml.safe_load(saved.read_text()) == {"host": live_server.url, "api_key": key}
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert not list(config_dir.glob("*.tmp"))


@live
def test_login_prompts_for_missing_values_without_echoing_the_key(live_server, alice, em, config_dir):
    key = key_for(alice)
    result = em("login", input=f"{live_server.url}\n{key}\n")
    assert result.exit_code == 0, result.output
    assert f"Signed in to {live_server.url} as alice" in result.stdout
    assert key not in result.output
    assert config.read_file().api_key == key


@live
def test_login_with_a_bad_key_fails_clearly_and_saves_nothing(live_server, alice, em, config_dir):
    result = em("login", "--host", live_server.url, "--api-key", "em_not-a-real-key")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: This API key is not valid."
    assert "Traceback" not in result.output
    assert not (config_dir / "config.yaml").exists()


@live
def test_login_with_a_revoked_key_says_so(live_server, alice, em):
    key, raw = account_services.create_key(user=alice, name="old")
    account_services.revoke_key(key=key)
    result = em("login", "--host", live_server.url, "--api-key", raw)
    assert result.exit_code == 1
    assert "This API key was revoked." in result.stderr


def test_login_to_an_unreachable_host_fails_clearly(em, config_dir):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = em("login", "--host", f"127.0.0.1:{port}", "--api-key", "em_x")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: Cannot reach http://127.0.0.1:{port}: Connection refused."
    assert not (config_dir / "config.yaml").exists()


@live
def test_login_to_something_that_is_not_em_fails_clearly(live_server, alice, em, config_dir):
    result = em("login", "--host", f"{live_server.url}/elsewhere", "--api-key", key_for(alice))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {live_server.url}/elsewhere answered 404 Not Found."
    assert not (config_dir / "config.yaml").exists()


@live
def test_the_client_raises_the_servers_error_shape(live_server, alice):
    with Client(live_server.url, key_for(alice)) as client:
        with pytest.raises(NotFound) as caught:
            client.get("no-such-endpoint")
        assert (caught.value.status, caught.value.code) == (404, "not_found")
        assert str(caught.value) == "No such API endpoint."
        with pytest.raises(ClientError) as caught:
            client.get(f"nodes/{root(alice).pk}/children", {"ordering": "size"})
        assert (caught.value.status, caught.value.code) == (400, "invalid")
        assert str(caught.value).startswith("Order by one of name")


def test_login_with_a_bad_host_is_a_usage_error(em):
    result = em("login", "--host", "ftp://em.example.com", "--api-key", "em_x")
    assert result.exit_code == 2
    assert "http(s) URL" in result.stderr


@live
def test_logout_forgets_the_key_then_commands_ask_to_sign_in(live_server, alice, em, login_as, config_dir):
    login_as(alice)
    result = em("logout")
    assert result.exit_code == 0
    assert f"Signed out of {live_server.url}" in result.stdout
    assert yaml.safe_load((config_dir / "config.yaml").read_text()) == {"host": live_server.url}

    result = em("ls")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: Not signed in: run em login (or set EM_HOST and EM_API_KEY)."
    assert "Traceback" not in result.output
    assert em("logout").stdout.strip() == "Not signed in."


@live
def test_a_revoked_key_tells_how_to_sign_in_again(live_server, alice, em, login_as):
    login_as(alice)
    for key in account_services.keys_of(alice):
        account_services.revoke_key(key=key)
    result = em("ls")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: This API key was revoked. Run em login to sign in again."


@live
def test_environment_overrides_the_config_file(live_server, alice, bob, em, login_as, monkeypatch):
    folder(root(alice), "alices")
    folder(root(bob), "bobs")
    login_as(alice)
    monkeypatch.setenv(config.API_KEY_ENV, key_for(bob))
    assert names(em("ls").stdout) == ["bobs"]
    monkeypatch.setenv(config.HOST_ENV, "http://127.0.0.1:1")
    assert "Cannot reach http://127.0.0.1:1" in em("ls").stderr


def test_a_broken_configuration_is_a_clear_error(em, config_dir, monkeypatch):
    monkeypatch.setenv(config.HOST_ENV, "ftp://em.example.com")
    monkeypatch.setenv(config.API_KEY_ENV, "em_x")
    result = em("ls")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: EM_HOST: 'ftp://em.example.com' is not an http(s) URL")
    monkeypatch.delenv(config.HOST_ENV)
    config_dir.mkdir()
    (config_dir / "config.yaml").write_text("host: [unclosed\n")
    result = em("ls")
    assert result.exit_code == 1
    assert "config.yaml is not valid YAML" in result.stderr
    assert "Traceback" not in result.output


# --- ls ---------------------------------------------------------------------------------------------


@live
def test_ls_lists_your_root_by_default(alice, em, login_as):
    folder(root(alice), "em-examples", labels=["demo", "mnist"])
    folder(root(alice), "b-runs", kind=Kind.RUN)
    login_as(alice)
    result = em("ls")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "kind", "modified", "labels"]
    assert names(result.stdout) == ["b-runs", "em-examples"]
    assert "em-examples/" in result.stdout
    row = next(line for line in lines if "em-examples" in line)
    assert row.split()[1] == "Folder"
    assert row.rstrip().endswith("demo, mnist")
    assert em("ls", "/alice").stdout == result.stdout


@live
def test_ls_nested_and_relative_paths(alice, em, login_as):
    examples = folder(root(alice), "em-examples")
    mnist = folder(examples, "mnist")
    folder(mnist, "run-1", kind=Kind.RUN)
    folder(mnist, "run-2", kind=Kind.RUN)
    folder(examples, "cifar")
    login_as(alice)
    assert names(em("ls", "/alice/em-examples/mnist").stdout) == ["run-1", "run-2"]
    assert names(em("ls", "em-examples").stdout) == ["cifar", "mnist"]
    assert names(em("ls", "em-examples/mnist/").stdout) == ["run-1", "run-2"]
    assert names(em("ls", "em-examples/mnist/../cifar").stdout) == []


@live
def test_ls_of_an_empty_folder_says_so(alice, em, login_as):
    folder(root(alice), "empty")
    login_as(alice)
    result = em("ls", "empty")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "/alice/empty is empty."


@live
def test_ls_d_shows_the_node_itself(alice, em, login_as):
    examples = folder(root(alice), "em-examples", labels=["demo"])
    folder(examples, "mnist")
    login_as(alice)
    result = em("ls", "-d", "em-examples")
    assert result.exit_code == 0, result.output
    assert names(result.stdout) == ["em-examples"]
    assert "demo" in result.stdout
    assert names(em("ls", "--directory").stdout) == ["alice"]


@live
def test_ls_of_a_run_shows_the_run_and_a_shortcut_lists_its_target(alice, em, login_as):
    examples = folder(root(alice), "em-examples")
    folder(examples, "mnist")
    run = folder(root(alice), "run-1", kind=Kind.RUN)
    folder(root(alice), "link", kind=Kind.SHORTCUT, target=examples)
    folder(root(alice), "run-link", kind=Kind.SHORTCUT, target=run)
    login_as(alice)
    assert names(em("ls", "run-1").stdout) == ["run-1"]
    assert names(em("ls", "link").stdout) == ["mnist"]
    assert "link -> /alice/em-examples" in em("ls", "-d", "link").stdout
    assert names(em("ls", "run-link").stdout) == ["run-link"]


@live
def test_ls_follows_pagination_to_the_end(alice, em, login_as):
    big = folder(root(alice), "big")
    expected = [f"child-{i:03d}" for i in range(25)]
    for name in reversed(expected):
        folder(big, name)
    login_as(alice)
    result = em("ls", "big", "--page-size", "10")
    assert result.exit_code == 0, result.output
    assert names(result.stdout) == expected


@live
def test_ls_beyond_the_servers_default_page(alice, em, login_as):
    big = folder(root(alice), "big")
    expected = [f"child-{i:03d}" for i in range(105)]
    for name in expected:
        folder(big, name)
    login_as(alice)
    assert names(em("ls", "/alice/big", "--page-size", "100").stdout) == expected
    assert names(em("ls", "/alice/big").stdout) == expected


@live
def test_ls_of_someone_elses_unshared_folder_is_no_such_node(alice, bob, em, login_as):
    folder(root(bob), "private")
    login_as(alice)
    for path in ("/bob/private", "/bob", "/nobody/at/all", "missing"):
        result = em("ls", path)
        assert result.exit_code == 1, path
        shown = path if path.startswith("/") else f"/alice/{path}"
        assert result.stderr.strip() == f"Error: No such node: {shown}"
        assert "Traceback" not in result.output


def test_usage_errors_exit_2(em):
    assert em("ls", "a", "b").exit_code == 2
    assert em("describe").exit_code == 2
    assert em("frobnicate").exit_code == 2


# --- describe ---------------------------------------------------------------------------------------


@live
def test_describe_shows_details_and_shares(alice, bob, em, login_as):
    examples = folder(root(alice), "em-examples", labels=["demo"], description="Worked examples.")
    mnist = folder(examples, "mnist", kind=Kind.RUN)
    sharing.share(node=examples, to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    login_as(alice)
    result = em("describe", "em-examples/mnist")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0] == "/alice/em-examples/mnist"
    for key, value in [
        ("id", str(mnist.pk)),
        ("kind", "Run"),
        ("path", "/alice/em-examples/mnist"),
        ("owner", "alice"),
        ("your access", "owner"),
        ("editor", "alice"),
    ]:
        assert field(out, key) == value, (key, out)
    assert "alice (the owner) and user bob can see this." in out
    share_row = next(line for line in out.splitlines() if line.startswith("user"))
    assert share_row.split() == ["user", "bob", "view", "/alice/em-examples"]

    login_as(bob)
    out = em("describe", "/alice/em-examples").stdout
    assert "Worked examples." in out
    assert field(out, "your access") == "view"
    assert "(this node)" in out


@live
def test_describe_of_a_private_node(alice, em, login_as):
    folder(root(alice), "solo")
    folder(root(alice), "dangling", kind=Kind.SHORTCUT, target=folder(root(alice), "gone"))
    login_as(alice)
    assert "Only alice (and staff) can see this." in em("describe", "solo").stdout
    assert "target" in em("describe", "dangling").stdout
    result = em("describe", "/alice/nothing")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: No such node: /alice/nothing"


# --- the installed entry point ----------------------------------------------------------------------


@live
def test_the_real_console_entry(live_server, alice, config_dir):
    folder(root(alice), "em-examples")
    env = {
        **os.environ,
        config.CONFIG_DIR_ENV: str(config_dir),
        "PYTHONPATH": str(REPO),
        "COLUMNS": "200",
    }
    script = Path(sys.executable).with_name("em")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "em.client.cli"]

    def em(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (our own interpreter or console script)
            [*command, *args], env=env, capture_output=True, text=True, timeout=60, check=False, cwd=REPO
        )

    done = em("login", "--host", live_server.url, "--api-key", key_for(alice))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Signed in to {live_server.url} as alice"
    done = em("ls")
    assert done.returncode == 0, done.stderr
    assert names(done.stdout) == ["em-examples"]
    done = em("ls", "/bob/secret")
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: No such node: /bob/secret"
    assert "Traceback" not in done.stderr
    assert em("ls", "--nope").returncode == 2
    assert em("--version").stdout.strip() == "em, version 0.1.0"

"""The production settings and the files under deploy/.

`manage.py check --deploy` must be clean with em.settings.production, and those settings must refuse to
start without a real secret key. The deploy files are checked for what can be checked without Docker or
Kubernetes: they parse, and every EM_* variable they set is one the settings read.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py in a fresh process with production settings and only the EM_* variables given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EM_") and k != "DJANGO_SETTINGS_MODULE"}
    clean.update(DJANGO_SETTINGS_MODULE="em.settings.production", EM_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_env(tmp_path: Path) -> dict[str, str]:
    return {
        "EM_SECRET_KEY": secrets.token_urlsafe(50),
        "EM_ALLOWED_HOSTS": "em.example.com",
        "EM_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
    }


def test_check_deploy_is_clean(tmp_path: Path) -> None:
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production_env(tmp_path))
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "System check identified no issues" in result.stdout, report


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["EM_SECRET_KEY"]
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert "EM_SECRET_KEY" in result.stderr, result.stderr


# --- deploy/ files -------------------------------------------------------------------------------


def settings_variables() -> set[str]:
    """Every EM_* name the settings modules read."""
    text = "".join(p.read_text() for p in (ROOT / "em" / "settings").glob("*.py"))
    return set(re.findall(r"\bEM_[A-Z0-9_]+\b", text))


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def test_compose_services_and_environment() -> None:
    compose = load_yaml(DEPLOY / "compose" / "docker-compose.yml")
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "nginx", "minio"} <= set(services)
    assert "em.wsgi" in " ".join(services["web"]["command"])
    assert "-Q" in services["worker"]["command"]
    assert "default,index" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    known = settings_variables()
    for name in ("web", "worker", "beat", "migrate"):
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "em.settings.production"
        assert environment["EM_STORAGE"] == "s3"
        used = {key for key in environment if key.startswith("EM_")}
        assert used <= known, f"{name} sets variables no setting reads: {sorted(used - known)}"
        for required in ("EM_SECRET_KEY", "EM_ALLOWED_HOSTS", "EM_DATABASE_URL", "EM_REDIS_URL", "EM_S3_BUCKET"):
            assert required in environment, f"{name} lacks {required}"


def test_helm_chart_metadata_and_values() -> None:
    chart_dir = DEPLOY / "helm" / "em"
    chart = load_yaml(chart_dir / "Chart.yaml")
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "em"
    values = load_yaml(chart_dir / "values.yaml")
    known = settings_variables()
    used = set(values["config"]) | set(values["secrets"]["values"])
    assert {k for k in used if k.startswith("EM_")} <= known
    templates = {p.stem for p in (chart_dir / "templates").glob("*.yaml")}
    expected = {"web-deployment", "web-service", "worker-deployment", "beat-deployment", "ingress", "configmap"}
    assert expected | {"secret", "migrate-job"} <= templates


def test_gunicorn_config_compiles() -> None:
    path = DEPLOY / "gunicorn.conf.py"
    compile(path.read_text(), str(path), "exec")


def test_nginx_proxies_to_gunicorn_with_the_scheme() -> None:
    conf = (DEPLOY / "nginx" / "em.conf").read_text()
    assert "proxy_pass http://" in conf
    assert "X-Forwarded-Proto" in conf
    assert re.search(r"client_max_body_size\s+\d+[gG];", conf)


def test_production_keeps_prepared_plans_and_answers_with_ems_json_renderer(tmp_path: Path) -> None:
    """The production settings build their own DATABASES and REST_FRAMEWORK renderers: both must carry what
    the base settings do (`tuned` PostgreSQL sessions; EM's JSON renderer, which writes what DRF's cannot)."""
    env = {**production_env(tmp_path), "EM_DATABASE_URL": "postgres://em@db.example:5432/em"}
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS']['options']); "
        "print(settings.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'])"
    )
    result = manage(tmp_path, "shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    assert "-c plan_cache_mode=force_generic_plan" in result.stdout
    assert "['em.api.json_codec.JSONRenderer']" in result.stdout


def test_behind_a_pooler_no_session_option_is_sent(tmp_path: Path) -> None:
    """PgBouncer refuses a `-c` option it does not track: `EM_DB_PLAN_CACHE_MODE=` sends none."""
    env = {**production_env(tmp_path), "EM_DATABASE_URL": "postgres://em@pgbouncer:6432/em"}
    env["EM_DB_PLAN_CACHE_MODE"] = ""
    code = "from django.conf import settings; print(repr(settings.DATABASES['default'].get('OPTIONS', {})))"
    result = manage(tmp_path, "shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    assert "plan_cache_mode" not in result.stdout and "options" not in result.stdout, result.stdout

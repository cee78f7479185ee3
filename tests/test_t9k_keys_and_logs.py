"""The UUID form of API keys (what the T9k SDK accepts) and the `?apikey=` it sends kept out of the logs."""

from __future__ import annotations

import io
import logging
import runpy
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from gunicorn.config import Config

from accounts import services
from accounts.models import ApiKey
from em.api.t9k.redact import REDACTED, RedactApiKeys, redact

ROOT = Path(__file__).resolve().parent.parent
USERINFO = "/t9k/aistore/server/oauth2/userinfo"


def test_every_new_key_has_a_uuid_form_that_signs_in_and_is_revoked_with_it(db: None, alice: Any) -> None:
    key, raw = services.create_key(user=alice, name="t9k")
    form = services.uuid_form(raw)
    assert uuid.UUID(form).version == 4 and form == services.uuid_form(raw)
    assert form not in raw and key.uuid_digest == services.digest(form) and form not in str(key.__dict__)
    assert Client().get(USERINFO, {"apikey": form}).json() == {"preferred_username": "alice"}
    assert Client().get(USERINFO, {"apikey": form.upper()}).status_code == 200  # any spelling of the UUID

    services.revoke_key(key=key)
    refused = Client().get(USERINFO, {"apikey": form})
    assert (refused.status_code, refused.content.decode()) == (
        400,
        f"api key {form[:8]}… not found: This API key was revoked.",
    )


def test_the_bearer_key_itself_is_refused_in_the_url_and_the_uuid_form_as_a_bearer(db: None, alice: Any) -> None:
    _, raw = services.create_key(user=alice, name="t9k")
    assert Client().get(USERINFO, {"apikey": raw}).status_code == 400  # not a UUID: the SDK would not send it
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {services.uuid_form(raw)}").status_code == 401
    assert Client().get("/api/v1/me", {"apikey": services.uuid_form(raw)}).status_code == 401  # only under /t9k/


def test_an_older_key_gets_its_uuid_form_when_first_used_as_a_bearer(db: None, alice: Any) -> None:
    key, raw = services.create_key(user=alice, name="old")
    ApiKey.objects.filter(pk=key.pk).update(uuid_digest=None)  # as made before UUID forms existed
    form = services.uuid_form(raw)
    assert Client().get(USERINFO, {"apikey": form}).status_code == 400
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert Client().get(USERINFO, {"apikey": form}).status_code == 200


def test_an_expired_key_and_no_key_are_refused(db: None, alice: Any) -> None:
    key, raw = services.create_key(user=alice, name="soon")
    ApiKey.objects.filter(pk=key.pk).update(expires_at=key.created_at - timedelta(seconds=1))
    expired = Client().get(USERINFO, {"apikey": services.uuid_form(raw)})
    assert expired.status_code == 400 and "not found: This API key expired" in expired.content.decode()
    missing = Client().get(USERINFO)
    assert missing.status_code == 401 and missing.content.decode().startswith("api key required")


@pytest.mark.parametrize(
    "line",
    [
        '"GET /t9k/aistore/server/apis/v1/nodes/info?node=/alice&apikey=SECRET-1 HTTP/1.1" 200 12',
        '"POST /t9k/aistore/server/apis/v1/objects?apikey=SECRET-1&path=/alice/r/a.txt HTTP/1.1" 403 17',
        "GET /t9k/aistore/server/oauth2/userinfo?APIKEY=SECRET-1",
        "referer https://host/x?a=1;apikey%3DSECRET-1",
    ],
)
def test_redact_takes_the_key_out_of_a_line_and_keeps_the_rest(line: str) -> None:
    cleaned = redact(line)
    assert "SECRET-1" not in cleaned and REDACTED in cleaned
    assert cleaned.replace(REDACTED, "SECRET-1") == line


def test_djangos_console_handler_redacts_what_any_logger_writes(settings: Any) -> None:
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, RedactApiKeys) for f in h.filters))
    out = io.StringIO()
    old = handler.setStream(out)  # type: ignore[attr-defined]
    try:
        logging.getLogger("django.server").warning('"%s" %s %s', "GET /t9k/x?apikey=SECRET-2 HTTP/1.1", 404, 0)
    finally:
        handler.setStream(old)  # type: ignore[attr-defined]
    assert "SECRET-2" not in out.getvalue() and f"apikey={REDACTED}" in out.getvalue()


def test_gunicorns_access_log_redacts_the_key(tmp_path: Path) -> None:
    """The logger class deploy/gunicorn.conf.py names, loaded as gunicorn loads it, writing a real access line."""
    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    cfg = Config()
    for name in ("logger_class", "access_log_format"):
        cfg.set(name, conf[name])
    cfg.set("accesslog", str(tmp_path / "access.log"))
    logger = cfg.logger_class(cfg)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/t9k/aistore/server/apis/v1/nodes?apikey=SECRET-3&parent=/alice",
        "PATH_INFO": "/t9k/aistore/server/apis/v1/nodes",
        "QUERY_STRING": "apikey=SECRET-3&parent=/alice",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    logger.access(response, SimpleNamespace(headers=[("X-FORWARDED-FOR", "10.0.0.2")]), environ, timedelta(0, 0, 1500))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = (tmp_path / "access.log").read_text()
    assert "/t9k/aistore/server/apis/v1/nodes?apikey=[redacted]&parent=/alice" in line and "SECRET-3" not in line

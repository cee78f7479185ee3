"""Production settings: the base settings with every insecure default refused.

Use with `DJANGO_SETTINGS_MODULE=em.settings.production`; `manage.py check --deploy` is clean here.
"""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import env, tuned

DEBUG = False
SECRET_KEY = env.str("EM_SECRET_KEY")  # no default: refuse to start without a real key
ALLOWED_HOSTS = env.list("EM_ALLOWED_HOSTS")
DATABASES = {"default": tuned(env.db_url("EM_DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("EM_DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# JSON only (no browsable API), written by EM's renderer: orjson, and text DRF's encoder cannot write.
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["em.api.json_codec.JSONRenderer"]  # noqa: F405

# TLS terminates at nginx, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("EM_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("EM_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# nginx (or an ingress) stands in front and appends the client's address to X-Forwarded-For.
EM_TRUSTED_PROXY_COUNT = env.int("EM_TRUSTED_PROXY_COUNT", default=1)

"""EM settings, all read from the environment.

Without any variable set this is the *embedded default* of ARCHITECTURE.md §1: SQLite under a data
directory, files on local disk, Celery tasks run in-process. Each `EM_*` variable moves one part to its
production counterpart; `em.settings.production` additionally refuses insecure values.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG: bool = env.bool("EM_DEBUG", default=True)
DATA_DIR = Path(env.str("EM_DATA_DIR", default=str(BASE_DIR / ".em-data"))).resolve()
SECRET_KEY: str = env.str("EM_SECRET_KEY", default="insecure-embedded-default-key-change-me-in-production")
ALLOWED_HOSTS: list[str] = env.list("EM_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("EM_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "csp",
    "accounts",
    "em",
    "assethub",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "em.api.middleware.RefuseUnstorableURLs",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "em.middleware.PrivateApiAnswers",
    # Last, so that it sees the lockout the login view's failed authenticate() records.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "em.urls"
WSGI_APPLICATION = "em.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------


def tuned(database: dict[str, Any]) -> dict[str, Any]:
    """`database` with EM's PostgreSQL session settings (production and test settings use it too).

    The statements EM prepares (`em.prepared`: lookups by id or key, and the inserts of a create or a live
    batch) have one good plan whatever their values, so PostgreSQL is told to keep it from the first run
    (`plan_cache_mode`). By default it plans such a statement anew on each of its first five runs on every
    connection: after a burst of creates had opened every gunicorn thread's connection, a search page took
    40-48 ms instead of 30 for its next ~40 requests; now only each connection's first request is slower.
    Statements that are not prepared (searches among them) are planned for their values as always.

    `EM_DB_PLAN_CACHE_MODE` empty sends no such option: a pooler may refuse options it does not know in
    the connection's startup packet (PgBouncer does), and the setting then belongs on the database
    (docs/deploy.md).
    """
    mode = env.str("EM_DB_PLAN_CACHE_MODE", default="force_generic_plan")
    if database.get("ENGINE") == "django.db.backends.postgresql" and mode:
        options = database.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c plan_cache_mode={mode}".strip()
    return database


DATABASES = {
    "default": tuned(env.db_url("EM_DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'em.sqlite3'}")),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN, which serialises
    # structural writes (moves, shares) instead of failing them with "database is locked" mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("EM_DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out client is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Sign-in failures (the login page, the admin's) lock out the client IP and, separately, the user name
# for a while. django-axes counts them in Redis when there is one (shared by every worker and replica),
# else in its database table (the embedded default has no shared cache; see CACHES below).
EM_LOGIN_FAILURE_LIMIT: int = env.int("EM_LOGIN_FAILURE_LIMIT", default=10)
EM_AUTH_LOCKOUT_MINUTES: int = env.int("EM_AUTH_LOCKOUT_MINUTES", default=15)
# Invalid API keys: this many from one client IP, or for one key prefix, within the lockout period answer
# 429 with Retry-After until the period ends (accounts.throttle).
EM_API_KEY_FAILURE_LIMIT: int = env.int("EM_API_KEY_FAILURE_LIMIT", default=30)
# How many proxies (nginx, an ingress) stand before gunicorn: the client IP is the address that many hops
# back in X-Forwarded-For. 0 trusts no header (REMOTE_ADDR), which is right when clients connect directly.
EM_TRUSTED_PROXY_COUNT: int = env.int("EM_TRUSTED_PROXY_COUNT", default=0)
AXES_FAILURE_LIMIT = EM_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=EM_AUTH_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.login_locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# EM resolves node permissions itself (em.access); guardian only stores the grants.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and blobs -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# Blobs on local disk (EM_STORAGE=file); every process of one portal (web, workers) must share it.
MEDIA_ROOT = Path(env.str("EM_FILES_DIR", default=str(DATA_DIR / "files"))).resolve()
EM_STORAGE: str = env.str("EM_STORAGE", default="file")
if EM_STORAGE == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("EM_S3_BUCKET"),
            "endpoint_url": env.str("EM_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("EM_S3_REGION", default=None),
            "access_key": env.str("EM_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("EM_S3_SECRET_ACCESS_KEY", default=None),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
elif EM_STORAGE == "file":
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise environ.ImproperlyConfigured(f"EM_STORAGE must be 'file' or 's3', not {EM_STORAGE!r}")
# Presigned transfers (EM_STORAGE=s3, docs/deploy.md "S3"): clients PUT and GET the bucket directly.
# Files above one part go up as S3 multipart uploads of this many bytes a part (S3 allows 5 MiB to 5 GiB
# a part and 10,000 parts; EM raises the part size for a file that would need more).
EM_S3_PART_SIZE: int = env.int("EM_S3_PART_SIZE", default=64 * 1024 * 1024)
# How long a presigned upload URL works: long enough to send a part over a slow link.
EM_S3_UPLOAD_EXPIRY: int = env.int("EM_S3_UPLOAD_EXPIRY", default=3600)
# How long a download redirect works: the client follows it at once, and a leaked URL soon dies.
EM_S3_DOWNLOAD_EXPIRY: int = env.int("EM_S3_DOWNLOAD_EXPIRY", default=300)
# The bucket's address as clients see it, when it differs from EM_S3_ENDPOINT_URL (the server's way in).
EM_S3_PUBLIC_ENDPOINT_URL: str | None = env.str("EM_S3_PUBLIC_ENDPOINT_URL", default=None)


def _bucket_origins() -> list[str]:
    """Where the portal's pages send and fetch blob bytes with S3 (the CSP's connect-src allows them)."""
    if EM_STORAGE != "s3":
        return []
    endpoint = EM_S3_PUBLIC_ENDPOINT_URL or env.str("EM_S3_ENDPOINT_URL", default=None)
    if endpoint:
        parts = urlsplit(endpoint)
        return [f"{parts.scheme}://{parts.netloc}"]
    bucket, region = env.str("EM_S3_BUCKET"), env.str("EM_S3_REGION", default=None)
    return [f"https://{bucket}.s3.amazonaws.com"] + ([f"https://{bucket}.s3.{region}.amazonaws.com"] if region else [])


EM_S3_BROWSER_ORIGINS: list[str] = _bucket_origins()
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Celery ---------------------------------------------------------------------------------------
EM_REDIS_URL: str | None = env.str("EM_REDIS_URL", default=None)
CELERY_BROKER_URL = EM_REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = EM_REDIS_URL
# Without Redis the tasks run in-process, so the embedded default needs no worker.
CELERY_TASK_ALWAYS_EAGER = EM_REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task's message stays in Redis's "unacked" set until the task returns (acks_late); a worker killed
# outright (SIGKILL, OOM, a lost node) never acks, and Redis gives the message to another worker once it
# has been unacked for `visibility_timeout` — also when its worker is alive and still busy. So:
#   task hard time limit (EM_TASK_TIME_LIMIT, 40 s)  <  visibility timeout (limit + 10 s = 50 s)
# a healthy task is stopped by its own limit before Redis could think it lost (never run twice at once),
# and kombu scans for expired messages every 5 s (`unacked_restore_interval` with throttle 1; kombu's
# default is 10 x 10 s), so a killed index runs again within 55 s. The soft limit (10 s earlier) lets
# indexing record a "took too long" failure on the run. Work that may take longer — the beat tasks —
# acks early instead (em/tasks.py): a lost one simply runs again at its next beat.
EM_TASK_TIME_LIMIT: int = env.int("EM_TASK_TIME_LIMIT", default=40)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = EM_TASK_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = max(EM_TASK_TIME_LIMIT - 10, EM_TASK_TIME_LIMIT // 2)
# A prefetched message is unacked too: it must not wait out the visibility timeout behind a long task.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": EM_TASK_TIME_LIMIT + 10,
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
}
# Publishing from a request (an upload's commit) never waits on a broker that is down: one connection
# attempt of at most 2 s, no retries, the failure logged; the run stays `pending` in the database, and
# the sweep below enqueues it again (em.tasks.requeue_pending_runs).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 10
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"em.tasks.index_*": {"queue": "index"}}
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_BEAT_SCHEDULE = {
    "purge-expired-trash": {"task": "em.tasks.purge_expired_trash", "schedule": timedelta(hours=1)},
    "compact-metrics": {"task": "em.tasks.compact_metrics", "schedule": timedelta(minutes=15)},
    "collect-garbage": {"task": "em.tasks.collect_garbage", "schedule": timedelta(hours=6)},
    "requeue-pending-runs": {"task": "em.tasks.requeue_pending_runs", "schedule": timedelta(minutes=1)},
    "requeue-pending-autotunes": {"task": "em.tasks.requeue_pending_autotunes", "schedule": timedelta(minutes=1)},
}
# A run still `pending` this long after it was last enqueued is enqueued again by the sweep (its message
# was never published, or lost with a broker's data); at most EM_INDEX_MAX_REQUESTS times, after which
# it is `failed` with the reason. Longer than the visibility timeout plus a time limit, so the sweep
# never doubles a task Redis is about to give back, nor one still running.
EM_INDEX_RETRY_AFTER = timedelta(seconds=env.int("EM_INDEX_RETRY_AFTER_SECONDS", default=300))
EM_INDEX_MAX_REQUESTS: int = env.int("EM_INDEX_MAX_REQUESTS", default=5)
# Metrics files not in the em SDK's layout are read point by point (bounded memory) up to this size.
EM_METRICS_YAML_MAX_BYTES: int = env.int("EM_METRICS_YAML_MAX_BYTES", default=16 << 20)
# Test-only: when set, indexing waits while this file exists (tests SIGKILL a worker mid-index).
EM_TEST_INDEX_GATE: str | None = env.str("EM_TEST_INDEX_GATE", default=None)

# --- Cache ----------------------------------------------------------------------------------------
# Throttling counters live here. With Redis, every gunicorn worker and replica shares them; the embedded
# default serves from one process (runserver), where a local-memory cache is the whole truth.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": EM_REDIS_URL, "KEY_PREFIX": "em"}
        if EM_REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler" if EM_REDIS_URL else "axes.handlers.database.AxesDatabaseHandler"

# --- EM behaviour ---------------------------------------------------------------------------------
EM_TRASH_RETENTION = timedelta(days=env.int("EM_TRASH_RETENTION_DAYS", default=30))
# Anonymous visitors may read nodes shared with *public* only when this is on.
EM_PUBLIC_ANONYMOUS: bool = env.bool("EM_PUBLIC_ANONYMOUS", default=False)
# Uploads: the most bytes one blob, manifest or archive may hold, and the most files one upload may list.
EM_MAX_UPLOAD_BYTES: int = env.int("EM_MAX_UPLOAD_BYTES", default=20 * 1024**3)
EM_MAX_FILES_PER_UPLOAD: int = env.int("EM_MAX_FILES_PER_UPLOAD", default=100_000)
# The most runs one CSV export streams (a trailer line says when it stopped short).
EM_EXPORT_MAX_ROWS: int = env.int("EM_EXPORT_MAX_ROWS", default=100_000)
# Where partly received blobs and extracted archives wait; on the blob storage's disk, a finished blob
# is moved into place rather than copied.
EM_UPLOAD_SCRATCH_DIR = Path(env.str("EM_UPLOAD_SCRATCH_DIR", default=str(DATA_DIR / "uploads-partial"))).resolve()

# A JSON request body is read into memory whole, so it has a ceiling; by default one that a manifest of
# EM_MAX_FILES_PER_UPLOAD files fits under (about 160 bytes an entry, paths of up to ~240 characters).
# Blob and archive bodies stream and are bounded by EM_MAX_UPLOAD_BYTES instead.
EM_MAX_JSON_BODY_BYTES: int = env.int("EM_MAX_JSON_BODY_BYTES", default=max(EM_MAX_FILES_PER_UPLOAD * 400, 2_621_440))
DATA_UPLOAD_MAX_MEMORY_SIZE = EM_MAX_JSON_BODY_BYTES

# --- Headers ------------------------------------------------------------------------------------
# The portal runs only its own built scripts: no inline script, no eval, no other origin. Styles allow
# inline attributes because the charting library (Plotly) sets them; that cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *EM_S3_BROWSER_ORIGINS],  # the bucket: presigned uploads from the portal
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- REST API -------------------------------------------------------------------------------------
_renderers = ["em.api.json_codec.JSONRenderer"]
if DEBUG:
    _renderers.append("rest_framework.renderers.BrowsableAPIRenderer")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.ApiKeyScope"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "em.api.pagination.PagePagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "em.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "em.api.json_codec.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": _renderers,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "EM API",
    "DESCRIPTION": (
        "Experiment management: a tree of folders, runs, artifacts and assets per user, shared with "
        "users, groups or everyone. Authenticate with a session or `Authorization: Bearer <api key>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "NodeKindEnum": "em.models.nodes.Kind",
        "UploadKindEnum": "em.services.uploads.UPLOAD_KINDS",
    },
    # Swagger UI from the installed sidecar package, not a CDN: the portal works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents the error shape for the statuses it can meet (em/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "em.api.schema.add_error_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # No log line may hold an API key the T9k SDK sent as `?apikey=` (em/api/t9k/redact.py).
    "filters": {"redact_api_keys": {"()": "em.api.t9k.redact.RedactApiKeys"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_api_keys"]}},
    "root": {"handlers": ["console"], "level": env.str("EM_LOG_LEVEL", default="INFO")},
    # django-axes logs every successful sign-in's counter reset at INFO; lockouts are WARNING and stay.
    "loggers": {
        "axes": {"level": "WARNING"},
        # The dev server's request lines (whole URLs) go through the redacting console handler, not Django's own.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

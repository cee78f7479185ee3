"""Test settings: base settings with a fast password hasher and, when asked, PostgreSQL and Redis.

`EM_TEST_DATABASE_URL` points the suite at PostgreSQL (the CI run does both SQLite and PostgreSQL);
`EM_TEST_REDIS_URL` is the broker that integration tests start a real Celery worker against.
"""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import DATA_DIR, env, tuned

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
_test_db = env.str("EM_TEST_DATABASE_URL", default="")
if _test_db:
    DATABASES = {"default": tuned(env.db_url_config(_test_db))}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "test.sqlite3"),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            "TEST": {"NAME": ""},
        }
    }
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
# One files dir per pass: `make test` runs the SQLite and the PostgreSQL pass side by side, and one pass's purge
# must not delete a blob the other just stored. The integration tests' worker is pointed here too (EM_FILES_DIR).
MEDIA_ROOT = DATA_DIR / ("test-files-postgres" if _test_db else "test-files")
STORAGES["default"] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}  # noqa: F405
STATIC_ROOT = DATA_DIR / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Throttling counters in this process only, whatever the environment says (tests/conftest.py clears it).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

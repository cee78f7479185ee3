"""Probes for load balancers, compose and Kubernetes: `/healthz` (liveness) and `/readyz` (readiness).

Liveness asks only "is this process answering?": restarting a web replica cannot mend a database or a
broker, so a dependency's outage must not make Kubernetes restart every replica. Readiness asks "can
this replica do its work now?": the database answers a query and the broker accepts a connection,
each within a couple of seconds; 503 names which part failed (not why: the probe needs no sign-in,
the cause goes to the log).
"""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from em.celery import app

log = logging.getLogger(__name__)
BROKER_TIMEOUT = 2.0  # seconds; also the broker's socket connect timeout in settings


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the process serves requests; touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker both answer, else 503 with each part's state."""
    checks = {"database": _database(), "broker": _broker()}
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any failure to answer means "not ready", whatever the driver calls it
        log.warning("Readiness: the database does not answer", exc_info=True)
        return "unavailable"
    return "ok"


def _broker() -> str:
    """`ok` when a broker connection opens (tasks run in-process without one: nothing to reach)."""
    if app.conf.task_always_eager:
        return "ok"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
    except Exception:  # kombu's and the transport's errors alike
        log.warning("Readiness: the broker does not answer", exc_info=True)
        return "unavailable"
    return "ok"

"""Celery tasks of the node tree. Each takes plain values, calls a service, and is safe to retry."""

from __future__ import annotations

from celery import shared_task

from em.services.trash import purge_expired


@shared_task(name="em.tasks.purge_expired_trash", acks_late=True)
def purge_expired_trash() -> int:
    """Beat task: delete trash entries past the retention. Idempotent: a rerun finds nothing to do."""
    return purge_expired()

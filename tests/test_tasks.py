"""The beat schedule names only tasks that exist, and each beat task runs (eagerly here) and is idempotent."""

from __future__ import annotations

import pytest
from django.conf import settings

from em import tasks
from em.celery import app


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


@pytest.mark.django_db
@pytest.mark.parametrize("task", [tasks.purge_expired_trash, tasks.compact_metrics, tasks.collect_garbage])
def test_beat_tasks_run_through_celery_and_find_nothing_to_do_on_an_empty_portal(task):
    result = task.delay().get()
    assert result == ({key: 0 for key in result} if isinstance(result, dict) else 0)

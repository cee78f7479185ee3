from django.apps import AppConfig
from django.db.backends.signals import connection_created


class EmConfig(AppConfig):
    name = "em"
    verbose_name = "EM node tree"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The Celery app must exist before any task is sent; `em/__init__.py` stays Django-free for the
        # SDK, so the server wires it here.
        # `tasks` answers the services' signals (a committed run upload is indexed).
        from . import celery, signals, tasks  # noqa: F401
        from .pg_times import register

        # Timestamps read from PostgreSQL are parsed in C (`em.pg_times`), ten times faster than Django's loader.
        connection_created.connect(register, dispatch_uid="em.pg_times")

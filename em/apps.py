from django.apps import AppConfig


class EmConfig(AppConfig):
    name = "em"
    verbose_name = "EM node tree"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The Celery app must exist before any task is sent; `em/__init__.py` stays Django-free for the
        # SDK, so the server wires it here.
        # `tasks` answers the services' signals (a committed run upload is indexed).
        from . import celery, signals, tasks  # noqa: F401

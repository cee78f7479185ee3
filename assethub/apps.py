from django.apps import AppConfig


class AssethubConfig(AppConfig):
    name = "assethub"
    verbose_name = "Asset Hub"

    def ready(self) -> None:
        """Give models and datasets versions in em's lineage (em cannot import this app: it asks its registry)."""
        from .services.lineage import register  # models are importable only once apps are ready

        register()

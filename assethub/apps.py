from django.apps import AppConfig


class AssethubConfig(AppConfig):
    name = "assethub"
    verbose_name = "Asset Hub"

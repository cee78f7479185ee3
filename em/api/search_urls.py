"""Routes of run export and keys (em.api.search); `runs` (search and create) and `runs/<id>…` are em.api.runs_urls."""

from django.urls import path

from . import search

urlpatterns = [
    path("runs/export.csv", search.RunExportView.as_view(), name="run-export"),
    path("runs/keys", search.RunKeysView.as_view(), name="run-keys"),
]

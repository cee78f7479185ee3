"""URL routes of em.api.runs (`runs` itself: GET searches, POST starts a live run)."""

from django.urls import path

from . import runs

urlpatterns = [
    path("runs", runs.RunsView.as_view(), name="runs"),
    path("runs/compare", runs.RunCompareView.as_view(), name="run-compare"),
    path("runs/bulk-delete", runs.RunBulkDeleteView.as_view(), name="run-bulk-delete"),
    path("runs/bulk-restore", runs.RunBulkRestoreView.as_view(), name="run-bulk-restore"),
    path("runs/<uuid:run_id>", runs.RunDetailView.as_view(), name="run-detail"),
    path("runs/<uuid:run_id>/tags/<path:key>", runs.RunTagView.as_view(), name="run-tag"),
    path("runs/<uuid:run_id>/metrics", runs.RunMetricsView.as_view(), name="run-metrics"),
    path("runs/<uuid:run_id>/metrics/<path:key>", runs.RunMetricHistoryView.as_view(), name="run-metric-history"),
    path("runs/<uuid:run_id>/log", runs.RunLogView.as_view(), name="run-log"),
    path("metrics/history", runs.MetricsHistoryView.as_view(), name="metrics-history"),
]

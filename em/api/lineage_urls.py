"""URL routes of em.api.lineage."""

from django.urls import path

from . import lineage

urlpatterns = [
    path("lineage", lineage.LineageGraphView.as_view(), name="lineage-graph"),
    path("runs/<uuid:run_id>/lineage", lineage.RunLineageView.as_view(), name="run-lineage"),
    path("runs/<uuid:run_id>/lineage/<int:edge_id>", lineage.RunLineageEdgeView.as_view(), name="run-lineage-edge"),
]

"""URL routes of em.api.autotune."""

from django.urls import path

from . import autotune

urlpatterns = [
    path("autotune", autotune.AutoTuneCreateView.as_view(), name="autotune-create"),
    path("autotune/<uuid:autotune_id>", autotune.AutoTuneDetailView.as_view(), name="autotune-detail"),
    path("autotune/<uuid:autotune_id>/trials", autotune.TrialsView.as_view(), name="autotune-trials"),
    path("autotune/<uuid:autotune_id>/trials/<int:number>", autotune.TrialDetailView.as_view(), name="autotune-trial"),
    path(
        "autotune/<uuid:autotune_id>/trials/<int:number>/promote",
        autotune.TrialPromoteView.as_view(),
        name="autotune-trial-promote",
    ),
    path("autotune/<uuid:autotune_id>/charts", autotune.ChartsView.as_view(), name="autotune-charts"),
]

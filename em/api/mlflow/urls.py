"""MLflow's tracking REST API under `/api/2.0/mlflow/` and `/ajax-api/2.0/mlflow/` (the UI's prefix, the
only one of `get-history-bulk-interval`), its artifact proxy under `/api/2.0/mlflow-artifacts/`, and an
MLflow-shaped 404 for whatever else the client asks of those prefixes (it probes `/api/3.0/mlflow/server-info`)."""

from django.urls import URLPattern, path, re_path

from . import artifacts, errors, experiments, metrics, models, runs

TRACKING: list[tuple[str, object]] = [
    ("experiments/create", experiments.ExperimentCreateView),
    ("experiments/get", experiments.ExperimentGetView),
    ("experiments/get-by-name", experiments.ExperimentByNameView),
    ("experiments/search", experiments.ExperimentSearchView),
    ("experiments/update", experiments.ExperimentUpdateView),
    ("experiments/delete", experiments.ExperimentDeleteView),
    ("experiments/restore", experiments.ExperimentRestoreView),
    ("experiments/set-experiment-tag", experiments.ExperimentTagView),
    ("experiments/delete-experiment-tag", experiments.ExperimentTagView),
    ("runs/create", runs.RunCreateView),
    ("runs/get", runs.RunGetView),
    ("runs/update", runs.RunUpdateView),
    ("runs/delete", runs.RunDeleteView),
    ("runs/restore", runs.RunRestoreView),
    ("runs/search", runs.RunSearchView),
    ("runs/log-batch", runs.LogBatchView),
    ("runs/log-metric", runs.LogMetricView),
    ("runs/log-parameter", runs.LogParamView),
    ("runs/set-tag", runs.SetTagView),
    ("runs/delete-tag", runs.DeleteTagView),
    ("runs/log-inputs", runs.LogInputsView),
    ("runs/outputs", runs.LogOutputsView),
    ("runs/log-model", runs.LogModelView),
    ("metrics/get-history", metrics.MetricHistoryView),
    ("artifacts/list", artifacts.ArtifactListView),
    ("logged-models", models.LoggedModelCreateView),
    ("logged-models/search", models.LoggedModelSearchView),
    ("logged-models/<str:model_id>", models.LoggedModelView),
    ("logged-models/<str:model_id>/tags", models.LoggedModelTagsView),
    ("logged-models/<str:model_id>/tags/<path:key>", models.LoggedModelTagView),
    ("logged-models/<str:model_id>/params", models.LoggedModelParamsView),
]


def _routes(prefix: str, name: str) -> list[URLPattern]:
    routes = []
    for route, view in TRACKING:
        kwargs = {"removes": True} if route.endswith("delete-experiment-tag") else {}
        label = route.replace("<str:model_id>", "model").replace("<path:key>", "key")  # a ':' in a name is a namespace
        routes.append(path(f"{prefix}{route}", view.as_view(**kwargs), name=f"{name}-{label}"))  # type: ignore[attr-defined]
    return routes


urlpatterns = [
    *_routes("api/2.0/mlflow/", "mlflow"),
    *_routes("ajax-api/2.0/mlflow/", "mlflow-ajax"),
    path(
        "ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
        metrics.MetricHistoryBulkIntervalView.as_view(),
        name="mlflow-ajax-bulk-interval",
    ),
    path("api/2.0/mlflow-artifacts/artifacts", artifacts.ProxyListView.as_view(), name="mlflow-artifacts-list"),
    path("api/2.0/mlflow-artifacts/artifacts/<path:path>", artifacts.ProxyFileView.as_view(), name="mlflow-artifacts"),
    re_path(r"^(?:ajax-)?api/[0-9.]+/mlflow(?:-artifacts)?(?:/.*)?$", errors.unknown_endpoint, name="mlflow-unknown"),
]

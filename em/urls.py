from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from em.api.errors import unknown_endpoint
from em.health import healthz, readyz

api_v1 = [
    path("", include("em.api.urls")),
    path("", include("em.api.uploads_urls")),
    path("", include("em.api.search_urls")),
    path("", include("em.api.runs_urls")),
    path("", include("em.api.autotune_urls")),
    path("", include("em.api.lineage_urls")),
    path("", include("assethub.api.urls")),
    path("", include("accounts.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy allows no inline one.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    # MLflow's tracking API over EM's services (docs/mlflow.md), before the catch-all below.
    path("", include("em.api.mlflow.urls")),
    # Last of the API: whatever no endpoint answers is still the API's JSON error (see unknown_endpoint).
    re_path(r"^api(?:/.*)?$", unknown_endpoint, name="api-unknown"),
    # The T9k AIStore API, for the `t9k` SDK's `em` module (docs/t9k.md).
    path("t9k/aistore/server/", include("em.api.t9k.urls")),
    path("", include("frontend.urls")),
]

handler404 = "em.api.errors.not_found"
handler500 = "em.api.errors.server_error"

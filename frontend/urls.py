"""The portal's addresses. Each top-level section of the app is listed, so that any other address
keeps its real 404, and /api, /admin, /accounts, /static and /healthz keep their own views.
Part 2 adds its sections (assets, lineage, autotune) to SECTIONS.
"""

from django.urls import path

from . import views

SECTIONS = [
    "browse", "shared", "public", "trash", "keys", "groups", "runs", "compare",
    "assethub", "assets", "artifacts", "autotune", "lineage",
]  # fmt: skip

urlpatterns = [
    path("", views.index, name="portal"),
    path("signin", views.signin, name="signin"),
    *(path(f"{section}", views.index, name=f"portal-{section}") for section in SECTIONS),
    *(path(f"{section}/<path:rest>", views.index) for section in SECTIONS),
]

from django.urls import path, re_path

from . import views

# What `<uuid:...>` matches: a node id in canonical form (36 hex digits without dashes is no id).
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

urlpatterns = [
    path("me", views.MeView.as_view(), name="me"),
    path("nodes", views.NodeCreateView.as_view(), name="node-create"),
    path("nodes/resolve", views.NodeResolveView.as_view(), name="node-resolve"),
    path("nodes/<uuid:node_id>", views.NodeDetailView.as_view(), name="node-detail"),
    path("nodes/<uuid:node_id>/children", views.NodeChildrenView.as_view(), name="node-children"),
    path("nodes/<uuid:node_id>/move", views.NodeMoveView.as_view(), name="node-move"),
    path("nodes/<uuid:node_id>/restore", views.NodeRestoreView.as_view(), name="node-restore"),
    path("nodes/<uuid:node_id>/shares", views.NodeSharesView.as_view(), name="node-shares"),
    path("nodes/<uuid:node_id>/shares/public", views.NodeUnsharePublicView.as_view(), name="node-unshare-public"),
    re_path(
        rf"^nodes/(?P<node_id>{UUID})/shares/(?P<principal_type>user|group)/(?P<name>[^/]+)$",
        views.NodeUnshareView.as_view(),
        name="node-unshare",
    ),
    path("shared-with-me", views.SharedWithMeView.as_view(), name="shared-with-me"),
    path("public", views.PublicNodesView.as_view(), name="public-nodes"),
    path("trash", views.TrashView.as_view(), name="trash"),
    path("trash/<uuid:node_id>", views.TrashEntryView.as_view(), name="trash-entry"),
]

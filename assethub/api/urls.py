from django.urls import path

from . import files, views

urlpatterns = [
    path("assets", views.AssetCreateView.as_view(), name="asset-create"),
    path("assets/resolve", views.AssetResolveView.as_view(), name="asset-resolve"),
    path("assets/diff", views.AssetsDiffView.as_view(), name="asset-diff-refs"),
    path("assets/<uuid:node_id>", views.AssetDetailView.as_view(), name="asset-detail"),
    path("assets/<uuid:node_id>/commits", views.CommitsView.as_view(), name="asset-commits"),
    path("assets/<uuid:node_id>/commits/<str:ref>", views.CommitView.as_view(), name="asset-commit"),
    path("assets/<uuid:node_id>/branches", views.BranchesView.as_view(), name="asset-branches"),
    path("assets/<uuid:node_id>/branches/<str:name>", views.BranchView.as_view(), name="asset-branch"),
    path("assets/<uuid:node_id>/branches/<str:name>/stage", views.StageView.as_view(), name="asset-stage"),
    path("assets/<uuid:node_id>/tags", views.TagsView.as_view(), name="asset-tags"),
    path("assets/<uuid:node_id>/merge", views.MergeView.as_view(), name="asset-merge"),
    path("assets/<uuid:node_id>/diff", views.AssetDiffView.as_view(), name="asset-diff"),
    path("assets/<uuid:node_id>/files", files.FilesView.as_view(), name="asset-files"),
    path("assets/<uuid:node_id>/files/<path:file_path>", files.FileView.as_view(), name="asset-file"),
    path("assets/<uuid:node_id>/archive.zip", files.ArchiveView.as_view(), name="asset-archive"),
]

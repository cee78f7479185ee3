"""URL routes of em.api.uploads: upload sessions, blobs, and a node's files."""

from django.urls import path, re_path

from . import transfers, uploads

urlpatterns = [
    path("uploads", uploads.UploadCreateView.as_view(), name="upload-create"),
    path("uploads/archive", uploads.UploadArchiveView.as_view(), name="upload-archive"),
    path("uploads/<uuid:upload_id>/commit", uploads.UploadCommitView.as_view(), name="upload-commit"),
    path("blobs/transfers", transfers.BlobTransfersView.as_view(), name="blob-transfers"),
    re_path(r"^blobs/(?P<sha256>[0-9a-f]{64})$", uploads.BlobView.as_view(), name="blob"),
    re_path(r"^blobs/(?P<sha256>[0-9a-f]{64})/complete$", transfers.BlobCompleteView.as_view(), name="blob-complete"),
    path("nodes/<uuid:node_id>/files", uploads.NodeFilesView.as_view(), name="node-files"),
    path("nodes/<uuid:node_id>/files/<path:file_path>", uploads.NodeFileView.as_view(), name="node-file"),
    path("nodes/<uuid:node_id>/archive.zip", uploads.NodeArchiveView.as_view(), name="node-archive"),
    path("nodes/<uuid:node_id>/references", uploads.NodeReferencesView.as_view(), name="node-references"),
]

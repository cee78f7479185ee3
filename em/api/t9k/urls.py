"""The T9k AIStore API, mounted at /t9k/aistore/server/ (em.urls); docs/t9k.md lists it."""

from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from . import graphs, nodes, objects


@csrf_exempt
def wrong_address(request: HttpRequest, **_route: str) -> HttpResponse:
    """Any other address here: an empty 404, which the T9k SDK reads as "Incorrect URL"."""
    return HttpResponse(status=404)


urlpatterns = [
    path("oauth2/userinfo", nodes.UserInfoView.as_view(), name="t9k-userinfo"),
    path("apis/v1/nodes", nodes.NodesView.as_view(), name="t9k-nodes"),
    path("apis/v1/nodes/info", nodes.NodeInfoView.as_view(), name="t9k-node-info"),
    path("apis/v1/nodes/shared", nodes.SharedNodesView.as_view(), name="t9k-nodes-shared"),
    path("apis/v1/nodes/public", nodes.PublicNodesView.as_view(), name="t9k-nodes-public"),
    path("apis/v1/objects", objects.ObjectsView.as_view(), name="t9k-objects"),
    path("apis/v1/objects/ls", objects.ObjectListView.as_view(), name="t9k-objects-ls"),
    path("apis/v1/objects/multipart", objects.MultipartStartView.as_view(), name="t9k-multipart"),
    path("apis/v1/objects/multipart/<str:upload_id>", objects.MultipartView.as_view(), name="t9k-multipart-one"),
    path("apis/v1/graphs", graphs.GraphsView.as_view(), name="t9k-graphs"),
    re_path(r"^.*$", wrong_address),
]

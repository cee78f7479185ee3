from django.urls import path, re_path

from . import views

urlpatterns = [
    path("keys", views.ApiKeysView.as_view(), name="keys"),
    path("keys/<uuid:key_id>", views.ApiKeyView.as_view(), name="key"),
    path("groups", views.GroupsView.as_view(), name="groups"),
    path("groups/<int:group_id>", views.GroupView.as_view(), name="group"),
    re_path(
        r"^groups/(?P<group_id>\d+)/(?P<role>members|managers)$", views.GroupMembersView.as_view(), name="group-members"
    ),
    re_path(
        r"^groups/(?P<group_id>\d+)/(?P<role>members|managers)/(?P<username>[^/]+)$",
        views.GroupMemberView.as_view(),
        name="group-member",
    ),
]

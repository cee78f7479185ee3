"""Sharing grants, stored with django-guardian on direct foreign keys to `Node`.

A grant exists only where it was made; inheritance down the tree is computed by `em.access`. An
*edit* grant is stored as both `view_node` and `change_node` so guardian's own tools (the admin,
`get_perms`) agree with EM that edit implies view. The grantee's own index is left out: guardian's
unique (grantee, permission, node) leads with that column and serves its lookups (tests/test_indexes.py).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from .nodes import Node


class NodeUserObjectPermission(UserObjectPermissionBase):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    content_object = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="user_grants")

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "user grant"


class NodeGroupObjectPermission(GroupObjectPermissionBase):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, db_index=False)
    content_object = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="group_grants")

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "group grant"

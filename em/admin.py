"""Staff manage nodes and their grants in the admin (guardian's object-permission pages)."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from guardian.admin import GuardedModelAdmin

from em.models import Node
from em.services.trash import purge_subtree


@admin.register(Node)
class NodeAdmin(GuardedModelAdmin):
    list_display = ["name", "kind", "owner", "depth", "modified_at", "deleted_at"]
    list_filter = ["kind", "trashed"]
    search_fields = ["name", "id"]
    readonly_fields = ["id", "path", "depth", "parent", "owner", "created_at", "modified_at", "deleted_at"]
    list_select_related = ["owner"]
    raw_id_fields = ["target", "created_by", "editor"]

    def delete_model(self, request: HttpRequest, obj: Node) -> None:
        purge_subtree(obj)  # a node never goes without its subtree

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Node]) -> None:
        for node in queryset.order_by("path"):
            if Node.objects.filter(pk=node.pk).exists():  # not gone already with an ancestor
                purge_subtree(node)

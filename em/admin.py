"""Staff manage nodes and their grants in the admin (guardian's object-permission pages)."""

from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from em.models import Node


@admin.register(Node)
class NodeAdmin(GuardedModelAdmin):
    list_display = ["name", "kind", "owner", "depth", "modified_at", "deleted_at"]
    list_filter = ["kind", "trashed"]
    search_fields = ["name", "id"]
    readonly_fields = ["id", "path", "depth", "parent", "owner", "created_at", "modified_at", "deleted_at"]
    list_select_related = ["owner"]
    raw_id_fields = ["target", "created_by", "editor"]

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group

from .models import ApiKey, GroupManager


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys can be inspected and revoked here; the key itself was never stored, only its digest."""

    list_display = ["name", "user", "prefix", "scope", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["id", "user", "prefix", "digest", "created_at", "last_used_at"]


class GroupManagerInline(admin.TabularInline):
    model = GroupManager
    extra = 0
    raw_id_fields = ["user"]


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    inlines = [GroupManagerInline]

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
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


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Adding a person here makes a normal user (not staff), as `manage.py adduser` does.

    Staff status is a separate, deliberate step on the user's page: staff see and may change every node
    of every user, so the add form asks only what a colleague needs and says so.
    """

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "description": (
                    "A normal user: they see their own folder /&lt;username&gt; and what is shared with them. "
                    "Staff status (see and change everything) can be given afterwards on the user's page."
                ),
                "fields": ("username", "first_name", "last_name", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active", "last_login")

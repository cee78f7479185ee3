"""Every user has a root folder named after them: made with the account, renamed with it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="em.root_folder")
def keep_root_folder(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    from em.models import Node
    from em.services.nodes import create_root

    if created:
        create_root(user=instance)
    else:  # paths read /<username>/..., so a renamed user's root follows (one UPDATE, usually of nothing)
        Node.objects.filter(parent__isnull=True, owner=instance).exclude(name=instance.username).update(
            name=instance.username
        )

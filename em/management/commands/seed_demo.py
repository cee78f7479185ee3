"""`manage.py seed_demo`: the demo user (demo/demo) with a few folders, for the embedded default.

Safe to run again: what exists is kept.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from em.access import Level
from em.models import Kind, Node
from em.services import nodes, sharing

DEMO_TREE: dict[str, Any] = {
    "em-examples": {"mnist": {}, "cifar10": {}, "llm-finetune": {}},
    "t9k-assethub": {"model": {}, "dataset": {}},
    "scratch": {},
}


class Command(BaseCommand):
    help = "Create the demo user (demo/demo) and a few folders, and a teammate who shares one with demo."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            demo = self._user("demo", "demo", "Demo")
            alice = self._user("alice", "alice", "Alice")
            self._folders(demo, nodes.root_of(demo), DEMO_TREE)
            shared = self._folders(alice, nodes.root_of(alice), {"team-baselines": {"resnet50": {}}})
            sharing.share(
                node=shared["team-baselines"], to=sharing.principal("user", "demo"), level=Level.VIEW, by=alice
            )
        self.stdout.write(self.style.SUCCESS("Demo data ready: sign in as demo / demo."))

    def _user(self, username: str, password: str, first_name: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            user = get_user_model().objects.create_user(username=username, password=password, first_name=first_name)
        return user

    def _folders(self, user: Any, parent: Node, layout: dict[str, Any]) -> dict[str, Node]:
        made: dict[str, Node] = {}
        for name, below in layout.items():
            node = Node.objects.live().filter(parent=parent, name=name).first() or nodes.create_node(
                parent=parent, name=name, kind=Kind.FOLDER, by=user
            )
            made[name] = node
            made.update(self._folders(user, node, below))
        return made

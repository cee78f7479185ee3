"""`manage.py seed_demo`: the demo users and real runs for the embedded default (`make run`).

demo/demo owns `em-examples/spirals`: runs of a small NumPy network recorded through the SDK (train,
val and test metrics, the dataset artifact they read and the weights they wrote, so lineage has edges,
and one run whose learning rate was too high and really diverged). alice/alice owns `team-baselines`,
with a baseline run of her own, and shares it with demo (view), so "Shared with me" is not empty.

Safe to run again: users, folders and grants are kept, and only the demo runs missing from their folder
are recorded (all the first time, none afterwards). The runs go through the API: with `--host` to a
server that is already running, otherwise to this process's app served on a free local port for as long
as it takes.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from em.access import Level
from em.management.demo import runs, server
from em.management.demo.runs import Recipe
from em.models import Kind, Node
from em.services import nodes, sharing

DEMO_FOLDER = "em-examples/spirals"
SHARED_FOLDER = "team-baselines"
DEMO_TREE: dict[str, Any] = {
    "em-examples": {"spirals": {}},
    "t9k-assethub": {"model": {}, "dataset": {}},
    "scratch": {},
}
DEMO_RUNS: tuple[Recipe, ...] = (
    Recipe("mlp-h16", hidden=16, lr=0.3, description="A narrow network at a slow rate: it underfits."),
    Recipe("mlp-h32", hidden=32, lr=1.0),
    Recipe("mlp-h64", hidden=64, lr=1.0),
    Recipe("mlp-h64-wd", hidden=64, lr=1.0, weight_decay=0.001, seed=2),
    Recipe("mlp-h64-lr5", hidden=64, lr=5.0, labels=("demo", "diverged"), description="Too high a rate: diverges."),
)
BASELINE_RUNS: tuple[Recipe, ...] = (
    Recipe("baseline-h8", hidden=8, lr=0.3, labels=("baseline",), description="Alice's baseline."),
)


class Command(BaseCommand):
    help = (
        "Create the demo users (demo/demo, alice/alice) with real runs recorded through the SDK, and a folder "
        "alice shares with demo. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", help="Record the runs through this running EM server (default: serve this app on a free port)."
        )

    def handle(self, *args: Any, host: str | None = None, **options: Any) -> None:
        started = time.monotonic()
        with transaction.atomic():
            demo = self._user("demo", "demo", "Demo")
            alice = self._user("alice", "alice", "Alice")
            self._folders(demo, nodes.root_of(demo), DEMO_TREE)
            shared = self._folders(alice, nodes.root_of(alice), {SHARED_FOLDER: {}})
            sharing.share(node=shared[SHARED_FOLDER], to=sharing.principal("user", "demo"), level=Level.VIEW, by=alice)
        todo = [
            (user, folder, tuple(left))
            for user, folder, recipes in ((demo, DEMO_FOLDER, DEMO_RUNS), (alice, SHARED_FOLDER, BASELINE_RUNS))
            if (left := runs.missing(user, folder, recipes))
        ]
        if todo:
            self.stdout.write("Recording the demo runs through the SDK:")
            if host:
                self._record(host, todo)
            else:
                with server.serving() as url:
                    self._record(url, todo)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready in {time.monotonic() - started:.1f} s: sign in as demo / demo.")
        )

    def _record(self, host: str, todo: list[tuple[Any, str, tuple[Recipe, ...]]]) -> None:
        for user, folder, recipes in todo:
            runs.record(host=host, user=user, folder=folder, recipes=recipes, say=self.stdout.write)

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

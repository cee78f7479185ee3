"""The demo's runs, recorded the way a user records theirs: the SDK writes bundles, the uploader sends them.

Each demo user gets a short-lived API key, the SDK trains the spirals network (`training`) once per
configuration into a scratch folder, marks the dataset artifact as input and the trained weights as
output, and the uploader sends artifacts and runs to the server, which indexes them as it indexes any
upload. Nothing is written behind the API's back, so the demo shows exactly what a newcomer's own
first runs will look like.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from accounts.models import ApiKey
from accounts.services import create_key
from em.client.http import Client
from em.client.sdk.artifact import create_artifact
from em.client.sdk.run import Run
from em.client.upload import Uploader
from em.management.demo import training
from em.models import Kind, Node
from em.services import lookup


@dataclass(frozen=True)
class Recipe:
    """One demo run: its name and hyper-parameters (and what the story says of it)."""

    name: str
    hidden: int
    lr: float
    weight_decay: float = 0.0
    epochs: int = 30
    batch_size: int = 32
    seed: int = 1
    labels: tuple[str, ...] = ("demo", "mlp")
    description: str = ""

    @property
    def hparams(self) -> dict[str, Any]:
        return {
            "model": {"hidden": self.hidden, "activation": "tanh"},
            "optimizer": {"name": "sgd", "lr": self.lr, "weight_decay": self.weight_decay},
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed": self.seed,
        }


@contextmanager
def api_key_for(user: Any) -> Iterator[str]:
    """A write key for `user` that exists only while the demo is being recorded."""
    key, raw = create_key(user=user, name=f"seed_demo {secrets.token_hex(4)}")
    try:
        yield raw
    finally:
        ApiKey.objects.filter(pk=key.pk).delete()


def missing(user: Any, folder: str, recipes: Sequence[Recipe]) -> list[Recipe]:
    """The recipes whose run `/<user>/<folder>` does not hold yet: all of them the first time, none once
    the demo is recorded, and the rest after a seeding that stopped half-way."""
    found = lookup.find(f"/{user.get_username()}/{folder}")
    if found.node is None or found.missing:
        return list(recipes)
    there = set(Node.objects.live().filter(parent=found.node, kind=Kind.RUN).values_list("name", flat=True))
    return [recipe for recipe in recipes if recipe.name not in there]


def record(
    *, host: str, user: Any, folder: str, recipes: Sequence[Recipe], say: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Train and upload one run per recipe into `/<user>/<folder>`; returns the uploaded run nodes."""
    data = training.spirals()
    uploaded: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="em-demo-") as scratch,
        api_key_for(user) as key,
        Client(host, key) as client,
    ):
        base = Path(scratch)
        dataset = create_artifact(
            "spirals-dataset", labels=["dataset"], description="Three noisy spirals, split 70/15/15.", base_dir=base
        )
        dataset.add_file(data.save(base / "spirals.npz"))
        uploader = Uploader(client, folder=folder, make_folder=True, console=Console(stderr=True, quiet=True))
        for recipe in recipes:
            run = _train(recipe, data, dataset, base)
            outcome = uploader.upload(run.folder)
            if outcome.error or outcome.node is None:
                raise RuntimeError(f"the demo run {recipe.name} was not uploaded: {outcome.error or 'skipped'}")
            uploaded.append(outcome.node)
            say(f"  {outcome.node['path']}: {run.status}")
    return uploaded


def _train(recipe: Recipe, data: training.Spirals, dataset: Any, base: Path) -> Run:
    run = Run(
        recipe.name,
        hparams=recipe.hparams,
        labels=list(recipe.labels),
        description=recipe.description,
        base_dir=base,
        capture_output=False,
    )
    run.mark_input(dataset)
    try:
        with run:
            net = training.train(
                data,
                hidden=recipe.hidden,
                lr=recipe.lr,
                epochs=recipe.epochs,
                batch_size=recipe.batch_size,
                weight_decay=recipe.weight_decay,
                seed=recipe.seed,
                report=lambda stage, values, step, epoch: run.log(stage, values, step=step, epoch=epoch),
            )
            weights = create_artifact(f"{recipe.name}-weights", labels=["model"], base_dir=base)
            weights.add_file(net.save(base / f"{recipe.name}.npz"), "weights.npz")
            run.mark_output(weights)
    except training.Diverged:
        pass  # recorded: the run says Error and its log holds the traceback
    return run

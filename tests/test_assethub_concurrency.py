"""Commits racing on one branch, on PostgreSQL: one moves the branch, the other is refused, nothing is
half-written. Each thread has its own connection (as two web workers would)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from assethub.models import Branch, StagedChange, Version
from assethub.services import assets, branches, commits, merge, staging
from assethub.services.commits import HeadMoved
from assethub.services.files import entries_of
from em.access import Checker
from em.models import Node
from em.services import blobs
from tests.assethub_helpers import listing, sha
from tests.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("private_storage")]


def send(user: Any, data: bytes) -> None:
    blobs.receive(sha(data), io.BytesIO(data), by=user, length=len(data))


def committed(alice: Any, files: dict[str, bytes], branch: str = "main") -> Version:
    node = Node.objects.get(name="resnet")
    for data in files.values():
        send(alice, data)
    staging.stage(asset=node, by=alice, branch=branch, add=listing(files))
    return commits.commit(asset=node, by=alice, branch=branch, message="setup")


@pytest.fixture
def asset(alice: Any) -> Node:
    return assets.create_asset(checker=Checker(alice), kind="Model", name="resnet")


def test_two_commits_on_one_branch_one_wins_the_other_is_a_conflict(alice: Any, asset: Node) -> None:
    base = committed(alice, {"a": b"base"})
    send(alice, b"x")

    def attempt(text: str) -> Version:
        return commits.commit(asset=Node.objects.get(pk=asset.pk), by=alice, message=text, expected_head=base.pk)

    staging.stage(asset=asset, by=alice, add=listing({"x": b"x"}))
    results = race(lambda: attempt("first"), lambda: attempt("second"))
    wins = [r for r in results if isinstance(r, Version)]
    losses = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1 and len(losses) == 1, results
    # the loser read the branch after the winner moved it (HeadMoved), or before, and its stage after
    # the winner consumed it (nothing left to commit); never a second version
    assert isinstance(losses[0], HeadMoved | commits.NothingToCommit), losses
    assert Branch.objects.get(asset=asset, name="main").head_id == wins[0].pk
    assert Version.objects.filter(asset=asset).count() == 2  # the loser left no version behind
    assert not StagedChange.objects.exists()


def test_two_writers_that_read_the_same_head_cannot_both_move_the_branch(alice: Any, asset: Node) -> None:
    """The compare-and-swap itself: both build on the head they read; the second UPDATE finds it gone."""
    base = committed(alice, {"a": b"base"})
    for data in (b"one", b"two"):
        send(alice, data)

    def attempt(path: str, data: bytes) -> Version:
        branch = Branch.objects.select_related("head").get(asset=asset, name="main")  # both read `base`
        entries = [*entries_of(base.manifest_id).values(), *listing({path: data})]
        return commits.record(branch=branch, by=alice, entries=entries, message=path, metadata={})

    results = race(lambda: attempt("one", b"one"), lambda: attempt("two", b"two"))
    wins = [r for r in results if isinstance(r, Version)]
    assert len(wins) == 1 and sum(isinstance(r, HeadMoved) for r in results) == 1, results
    head = Branch.objects.get(asset=asset, name="main").head
    assert head is not None and head.pk == wins[0].pk and head.parent_id == base.pk
    assert Version.objects.filter(asset=asset).count() == 2


def test_a_merge_racing_a_commit_on_main_is_refused_or_lands_on_top(alice: Any, asset: Node) -> None:
    committed(alice, {"a": b"0", "b": b"0"})
    branches.create_branch(asset=asset, by=alice, name="dev")
    committed(alice, {"b": b"dev"}, branch="dev")
    committed(alice, {"c": b"main"})  # main moved on too: the merge is three-way, and writes a version
    send(alice, b"main")
    staging.stage(asset=asset, by=alice, add=listing({"a": b"main"}))
    head = Branch.objects.get(asset=asset, name="main").head_id
    results = race(
        lambda: merge.merge(asset=Node.objects.get(pk=asset.pk), by=alice, source="dev", expected_head=head),
        lambda: commits.commit(asset=Node.objects.get(pk=asset.pk), by=alice, expected_head=head),
    )
    assert sum(isinstance(r, HeadMoved) for r in results) == 1, results
    assert Version.objects.filter(asset=asset).count() == 4  # base, dev, main, and the winner's

"""No access check or listing may cost more queries as trees grow deeper or folders fuller."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from em import access
from em.access import Level
from em.models import Kind, Node
from em.services import sharing
from tests.factories import chain, folder, root

pytestmark = pytest.mark.django_db


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.fixture
def deep(alice, bob, make_group):
    """Bob reaches nodes at depth 1 and 50 through a group grant on alice's top folder."""
    make_group("team", bob)
    top = folder(root(alice), "top")
    sharing.share(node=top, to=sharing.principal("group", "team"), level=Level.VIEW, by=alice)
    nodes = chain(top, 49)
    return {1: top, 50: nodes[-1]}


def test_access_check_costs_the_same_at_depth_1_and_50(deep, bob, django_assert_max_num_queries):
    assert deep[50].depth == 50
    counts = {d: _count(lambda n=n: access.get_node(bob, n.pk)) for d, n in deep.items()}
    assert counts[1] == counts[50]
    with django_assert_max_num_queries(3):  # ARCHITECTURE.md §6: ≤ 3 queries at depth 50
        assert access.get_node(bob, deep[50].pk).level == Level.VIEW


def test_a_strangers_refusal_costs_no_more(deep, make_user, django_assert_max_num_queries):
    stranger = make_user("stranger")
    with django_assert_max_num_queries(3):
        assert access.level(stranger, deep[50]) == Level.NONE


def test_scope_is_one_query_plus_the_listing_whatever_the_depth(deep, bob):
    def visible() -> None:
        list(access.scope(Node.objects.all(), bob).values_list("pk", flat=True))

    assert _count(visible) == 2


def _fill(parent: Node, count: int) -> None:
    """`count` children of mixed kinds, including shortcuts whose targets need checking."""
    for i in range(count):
        kind = Kind.SHORTCUT if i % 10 == 0 else Kind.RUN if i % 2 else Kind.FOLDER
        folder(parent, f"child-{i:04d}", kind=kind, target=parent if kind == Kind.SHORTCUT else None)


@pytest.mark.parametrize("ordering", ["name", "-modified", "kind"])
def test_listing_a_folder_costs_the_same_with_10_and_1000_children(alice, bob, make_group, api, ordering):
    make_group("team", bob)
    shared = folder(root(alice), "shared")
    sharing.share(node=shared, to=sharing.principal("group", "team"), level=Level.EDIT, by=alice)
    small = chain(shared, 1, "small")[-1]
    large = chain(shared, 48, "large")[-1]  # deeper, too
    _fill(small, 10)
    _fill(large, 1000)
    client = api(bob)
    counts = {}
    for label, parent in (("small", small), ("large", large)):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/v1/nodes/{parent.pk}/children?ordering={ordering}")
        assert response.status_code == 200
        counts[label] = len(ctx.captured_queries)
    assert response.json()["count"] == 1000
    assert len(response.json()["results"]) == 100
    # One query more only when the page holds shortcuts (their targets' access), never per row.
    assert counts["large"] <= counts["small"] <= 9, counts


def test_shared_with_me_and_trash_listings_do_not_grow_with_rows(alice, bob, api):
    client = api(bob)
    counts = []
    for batch in (3, 30):
        for i in range(batch):
            node = folder(root(alice), f"s{batch}-{i}")
            sharing.share(node=node, to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/shared-with-me").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]

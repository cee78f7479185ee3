"""A `Prepared` lookup answers exactly as its queryset would, in one query, on either database, per thread."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from accounts import services as account_services
from em import access
from em.models import Node
from em.prepared import Prepared
from em.services import sharing
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db

EVERYTHING = (*access.PRESENTED, "run")


def _by_id(related: tuple[str, ...]) -> Prepared[Node]:
    return Prepared(
        lambda pk: Node.objects.select_related(*related).filter(pk=pk, deleted_at__isnull=True)[:1],
        (Node._meta.pk, uuid.uuid4()),
    )


def _fields(instance: object) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}  # type: ignore[attr-defined]


def test_a_node_comes_with_the_relations_its_queryset_would_bring(alice, django_assert_num_queries):
    run = make_run(folder(root(alice), "f"), "r", hparams={"lr": 0.1})
    expected = Node.objects.select_related(*EVERYTHING).get(pk=run.node.pk)
    prepared = _by_id(EVERYTHING)
    for _ in range(2):  # compiled on the first call, bound only on the second: both alike
        with django_assert_num_queries(1):
            node = prepared.first(str(run.node.pk))
            assert node is not None
            assert _fields(node) == _fields(expected)
            assert node.labels == expected.labels and node.extra == expected.extra  # JSON converted
            assert node.owner.username == "alice" and node.created_by == alice and node.editor == alice
            assert _fields(node.run) == _fields(expected.run) and node.run.node is node
            assert node.target is None
        assert not node._state.adding and node._state.db == "default"


def test_a_missing_id_is_none_and_a_malformed_one_is_refused_as_the_orm_refuses_it(alice):
    prepared = _by_id(())
    assert prepared.first(uuid.uuid4()) is None
    with pytest.raises(ValidationError):
        Node.objects.filter(pk="not-a-uuid").first()
    with pytest.raises(ValidationError):
        prepared.first("not-a-uuid")


def test_the_value_must_appear_once_among_the_parameters(alice):
    twice = Prepared(
        lambda pk: Node.objects.filter(pk=pk) | Node.objects.filter(target_id=pk), (Node._meta.pk, uuid.uuid4())
    )
    with pytest.raises(ValueError, match="once"):
        twice.first(root(alice).pk)


def test_api_keys_are_found_by_either_digest_with_their_user(alice):
    key, raw = account_services.create_key(user=alice, name="k")
    user, found = account_services.authenticate_key(raw)
    assert user == alice and found.pk == key.pk and found.user is user
    assert found.scope == key.scope and found.expires_at == key.expires_at
    user, found = account_services.authenticate_uuid_key(account_services.uuid_form(raw))
    assert user == alice and found.pk == key.pk
    with pytest.raises(account_services.KeyRejected):
        account_services.authenticate_key(raw + "x")


@pytest.mark.django_db(transaction=True)
def test_each_thread_compiles_on_its_own_connection(alice):
    node = root(alice)
    prepared = _by_id(("owner",))
    found: list[object] = []

    def look() -> None:
        try:
            found.append(prepared.first(node.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=look) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [getattr(n, "pk", None) for n in found] == [node.pk] * 4


def test_rows_are_the_values_list_querysets_rows_through_its_converters(alice, bob, django_assert_num_queries):
    folder(root(alice), "f")
    folder(root(bob), "g")
    owner = Node._meta.get_field("owner").target_field
    columns = ("pk", "labels", "created_at", "name")
    prepared = Prepared(
        lambda user: Node.objects.filter(owner=user).order_by("path").values_list(*columns), (owner, -1)
    )
    for user in (alice, bob, alice):  # compiled once, then bound to each user
        expected = list(Node.objects.filter(owner=user).order_by("path").values_list(*columns))
        with django_assert_num_queries(1):
            assert prepared.rows(user.pk) == expected
        assert isinstance(expected[0][0], uuid.UUID) and expected[0][1] == []  # converted as the ORM does
    assert prepared.rows(-5) == []


def test_a_users_grants_come_from_one_compiled_union(alice, bob):
    shared = folder(root(alice), "shared")
    sharing.share(node=shared, to=sharing.principal("user", "bob"), level=access.Level.EDIT, by=alice)
    public = folder(root(alice), "open")
    sharing.share(node=public, to=sharing.principal("public"), level=access.Level.VIEW, by=alice)
    everyone = sorted([root(bob).path, shared.path, public.path])
    for _ in range(2):
        assert access.granted_roots(bob) == everyone  # own root, a direct grant, a public one
        assert access.granted_roots(bob, access.Level.EDIT) == sorted([root(bob).path, shared.path])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the test closes its connection, which a test transaction forbids
def test_a_prepared_statement_keeps_one_plan_from_its_first_run_on_a_new_connection(alice):
    """PostgreSQL plans a prepared statement anew on its first five runs on a connection unless told to keep
    its generic plan (em.settings.base `tuned`); every connection of ours is told, so a new connection's
    lookups are planned once. Read back from the server: its generic plans have run, custom ones none."""
    node = folder(root(alice), "f")
    lookup = _by_id(())
    connection = connections["default"]
    connection.close()  # a new connection, as a new gunicorn thread opens
    for _ in range(3):
        assert lookup.first(node.pk) == node
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_generic_plan"
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE generic_plans > 0")
        plans = cursor.fetchall()
    assert plans and all(custom == 0 for _, custom in plans), plans

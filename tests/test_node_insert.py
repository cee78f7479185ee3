"""How a new node finds its place: a taken path or name lands nothing instead of failing the insert
(`em.services.nodes._insert_unless_taken`), and on PostgreSQL the last child's position is read and the
next one claimed in one statement (`_next_free`), whose decoding of a path segment must be `tree.decode`.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

from em import errors, prepared, tree
from em.models import Kind, Node, Run
from em.services import nodes
from tests.factories import folder, root
from tests.run_helpers import make_run
from tests.test_concurrency import assert_is_a_tree
from tests.test_create_locks import in_thread

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Node, Run])
def test_the_models_inserted_without_save_have_no_signal_receivers_it_would_skip(model: type[Model]):
    """`insert_row` inserts a node or a run without `save()`: a receiver added later must make it send them."""
    assert not pre_save.has_listeners(model)
    assert not post_save.has_listeners(model)
    assert not model._meta.db_returning_fields


def test_a_model_that_reads_columns_back_from_its_insert_is_refused(alice):
    from em.models import Param

    run = make_run(folder(root(alice), "exp"), "r")
    with pytest.raises(ValueError, match="reads columns back"):
        prepared.insert_row(Param(run=run, key="k", value="v"))


def test_a_live_run_inserted_without_save_reads_back_as_made(alice):
    from em.runs.services import create_live_run

    run = create_live_run(parent=root(alice), name="live", by=alice, hparams={"lr": 0.1, "opt": {"name": "adam"}})
    stored = Run.objects.get(pk=run.pk)
    assert not run._state.adding and run._state.db == "default"
    for field in ("status", "started_at", "source_type", "hyperparameters", "index_state", "platform", "git"):
        assert getattr(stored, field) == getattr(run, field), field


def test_a_name_clash_fails_nothing_in_the_database_so_the_transaction_goes_on(alice):
    """No savepoint wraps the insert any more: were the clash a failed statement, PostgreSQL would refuse
    every later one in the transaction."""
    parent = root(alice)
    folder(parent, "taken", by=alice)
    fields: dict[str, Any] = {"kind": Kind.FOLDER, "created_by": alice, "editor": alice}
    with transaction.atomic():
        with pytest.raises(errors.NameClash, match="/alice/taken already exists"):
            nodes._insert_child(parent, name="taken", **fields)
        made = nodes._insert_child(parent, name="free", **fields)
    assert Node.objects.get(pk=made.pk).name == "free"
    assert sorted(Node.objects.filter(parent=parent).values_list("name", flat=True)) == ["free", "taken"]


def offer_a_taken_path_first(monkeypatch: pytest.MonkeyPatch, taken: Node) -> list[str]:
    """Make the next create in `taken`'s folder be offered `taken`'s path first (as a creator that read the
    folder before another committed there would be), then free ones: the paths offered, in order."""
    real = nodes._next_free
    offered: list[str] = []

    def stale_first(node: Node, *, spread: bool) -> str:
        path = taken.path if not offered else real(node, spread=spread)
        offered.append(path)
        return path

    monkeypatch.setattr(nodes, "_next_free", stale_first)
    return offered


def test_a_taken_path_is_tried_again_further_on(alice, monkeypatch: pytest.MonkeyPatch):
    """A position another creator committed meanwhile: the insert lands nothing, and the next try lands."""
    parent = folder(root(alice), "sweep")
    first = folder(parent, "first", by=alice)
    offered = offer_a_taken_path_first(monkeypatch, first)
    made = nodes.create_node(parent=parent, name="second", kind=Kind.FOLDER, by=alice)
    assert offered[0] == first.path and len(offered) == 2
    assert made.path not in (first.path, "") and made.path.startswith(parent.path)
    assert Node.objects.get(pk=made.pk).path == made.path
    assert_is_a_tree()


def test_the_insert_fills_what_save_would(alice):
    parent = root(alice)
    made = nodes.create_node(
        parent=parent, name="described", kind=Kind.FOLDER, by=alice, labels=["a"], description="d", extra={"k": 1}
    )
    stored = Node.objects.get(pk=made.pk)
    assert not made._state.adding and made._state.db == "default"
    for field in ("path", "depth", "parent_id", "owner_id", "created_by_id", "editor_id", "labels", "extra"):
        assert getattr(stored, field) == getattr(made, field), field
    assert stored.description == "d" and stored.created_at == made.created_at and stored.modified_at is not None


def test_an_insert_failing_otherwise_still_raises(alice):
    """Only a taken path or name lands nothing: a broken foreign key is an error, as it was."""
    parent = root(alice)
    orphan = Node(parent=parent, path=parent.path + "ZZZZZ", depth=1, owner_id=10**9, name="x", kind=Kind.FOLDER)

    def insert() -> None:
        with transaction.atomic():
            nodes._insert_unless_taken(orphan)
            connection.check_constraints(table_names=[Node._meta.db_table])  # foreign keys are checked deferred

    with pytest.raises(IntegrityError):
        insert()


@pytest.mark.postgres
def test_the_sql_decoding_of_a_segment_is_tree_decode(db: Any):
    rng = random.Random(7)
    segments = ["00001", "0000Z", "00010", "ZZZZZ", *(tree.encode(rng.randint(1, tree.MAX_SEGMENT)) for _ in range(50))]
    prefix = "AB0CD"
    sql = f"SELECT {nodes._decoded_segment(len(prefix))} FROM (SELECT %s::text AS path) AS last"  # noqa: S608 - constants
    with connection.cursor() as cursor:
        for segment in segments:
            cursor.execute(sql, [prefix + segment + "00001"])
            assert cursor.fetchone()[0] == tree.decode(segment), segment


@pytest.mark.postgres
def test_next_free_is_after_the_last_child_and_passes_positions_claimed_elsewhere(alice):
    parent = folder(root(alice), "sweep")
    for name in ("a", "b", "c"):
        folder(parent, name, by=alice)
    last = Node.objects.filter(parent=parent).order_by("-path").values_list("path", flat=True)[0]
    expected = tree.decode(last[-tree.STEP :]) + 1
    folder_key = int.from_bytes(parent.pk.bytes[:4], "big", signed=True)
    with transaction.atomic():
        path = nodes._next_free(parent, spread=False)
        assert path == parent.path + tree.encode(expected)
        # Claimed by this transaction now: it may take the position again, but others may not.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s::int, %s::int)", [folder_key, expected])
            assert cursor.fetchone()[0]
        spread = nodes._next_free(parent, spread=True)
        assert expected <= tree.decode(spread[-tree.STEP :]) < expected + nodes.PATH_SPREAD


def test_the_statements_spelt_once_are_those_the_orm_spells_for_each_node(alice):
    """`spelt_once` keeps the SQL of the first call; what each later call binds must be what the ORM would
    compile for it (the insert's values, the chain of the held place)."""
    parent = folder(root(alice), "sweep")
    for name in ("a", "b"):
        made = nodes.create_node(parent=parent, name=name, kind=Kind.FOLDER, by=alice, labels=[name], extra={"n": 1})
    fields = Node._meta.local_concrete_fields
    query = InsertQuery(Node)
    query.insert_values(fields, [made])
    ((sql, params),) = query.get_compiler(connection=connection).as_sql()
    compiler = query.get_compiler(connection=connection)
    assert prepared.SPELT[(connection.vendor, "insert", "em.Node", " ON CONFLICT DO NOTHING")] == (
        f"{sql} ON CONFLICT DO NOTHING"
    )
    ours = [compiler.prepare_value(field, getattr(made, field.attname)) for field in fields]
    assert [repr(p) for p in ours] == [repr(p) for p in params]
    chain = tree.ancestor_paths(made.path)[1:]
    held = Node.objects.filter(path__in=chain).order_by("path").values_list("pk", *nodes._POSITION)
    held_sql, held_params = held.query.sql_with_params()
    assert nodes._held_sql(len(chain)) == f"{held_sql} FOR KEY SHARE" and list(held_params) == chain


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_create_waiting_for_a_move_into_its_folder_lands_beside_what_moved_in(alice):
    """The move commits while the creator waits for the lock holding its place: the position the creator
    then claims is read afterwards, beside the node that moved in."""
    parent = folder(root(alice), "sweep")
    wanderer = folder(root(alice), "wanderer")
    moved, release = threading.Event(), threading.Event()

    def mover() -> None:
        try:
            with transaction.atomic():
                nodes.move_node(
                    node=Node.objects.get(pk=wanderer.pk), destination=Node.objects.get(pk=parent.pk), by=alice
                )
                moved.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=mover)
    thread.start()
    assert moved.wait(10), "the move never happened"
    creator, out = in_thread(lambda: folder(Node.objects.get(pk=parent.pk), "new", by=alice))
    creator.join(1)
    assert creator.is_alive(), "the creator did not wait for the move holding its folder"
    release.set()
    thread.join(10)
    creator.join(10)
    assert "error" not in out, out
    children = Node.objects.filter(parent=parent)
    assert sorted(children.values_list("name", flat=True)) == ["new", "wanderer"]
    assert len({n.path for n in children}) == 2
    assert_is_a_tree()


@pytest.mark.postgres
def test_the_claim_looks_the_last_child_up_once(alice):
    """Inlined, the steps of `_CLAIM_NEXT` copied the last child's lookup into each use of its number
    (nine index scans to plan, ~1 ms of the server's CPU a create): each step is materialised once."""
    parent = folder(root(alice), "sweep")
    low, high = tree.subtree_range(parent.path)
    params = [low, high, 0, tree.MAX_SEGMENT, 0, nodes.PATH_SPREAD - 1, tree.MAX_SEGMENT, 1]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {nodes._claim_next_sql(len(parent.path))}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert plan.count("em_node_path_unique") == 1, plan

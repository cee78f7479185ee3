"""The node tree and sharing as ARCHITECTURE.md pins them down, exercised through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from em import access, errors, tree
from em.access import Level
from em.models import Kind, Node, NodeGroupObjectPermission, NodeUserObjectPermission
from em.services import lookup, nodes, paths, sharing, trash
from tests.factories import chain, folder, root

pytestmark = pytest.mark.django_db


def share(node, kind, name, level, by=None):
    sharing.share(node=node, to=sharing.principal(kind, name), level=level, by=by or node.owner)


def test_every_user_gets_a_root_folder_named_after_them(alice):
    r = root(alice)
    assert (r.name, r.kind, r.depth, r.parent_id) == ("alice", Kind.FOLDER, 0, None)
    assert paths.display_path(r) == "/alice"


def test_paths_read_from_the_root(alice):
    mnist = folder(folder(root(alice), "em-examples"), "mnist")
    assert paths.display_path(mnist) == "/alice/em-examples/mnist"
    assert lookup.resolve(alice, "/alice/em-examples/mnist") == mnist
    assert lookup.resolve(alice, "alice/em-examples/mnist/") == mnist


def test_storage_type_follows_kind(alice):
    kinds = {k: folder(root(alice), k.lower(), kind=k).storage_type for k in Kind if k != Kind.SHORTCUT}
    assert kinds == {Kind.FOLDER: 0, Kind.RUN: 2, Kind.ARTIFACT: 2, Kind.AUTOTUNE: 2, Kind.MODEL: 3, Kind.DATASET: 3}


def test_names_are_unique_among_live_siblings_only(alice):
    a = folder(root(alice), "a")
    with pytest.raises(errors.NameClash, match="/alice/a already exists"):
        folder(root(alice), "a")
    trash.trash_node(node=a, by=alice)
    again = folder(root(alice), "a")
    assert again.pk != a.pk


def test_folders_nest_to_the_maximum_depth_and_no_further(alice):
    deepest = chain(root(alice), tree.MAX_DEPTH)[-1]
    assert deepest.depth == tree.MAX_DEPTH
    with pytest.raises(errors.TreeTooDeep):
        folder(deepest, "one-too-many")


def test_only_folders_hold_children(alice):
    run = folder(root(alice), "run", kind=Kind.RUN)
    with pytest.raises(errors.InvalidInput, match="not a folder"):
        folder(run, "inside")


def test_share_covers_everything_below_now_and_later(alice, bob):
    top = folder(root(alice), "top")
    deep = chain(top, 10)[-1]
    share(top, "user", "bob", Level.VIEW)
    later = folder(deep, "created-after-sharing")
    assert access.level(bob, deep) == Level.VIEW
    assert access.level(bob, later) == Level.VIEW
    assert access.level(bob, root(alice)) == Level.NONE


def test_effective_level_is_the_highest_grant_on_the_way(alice, bob, make_group):
    team = make_group("team", bob)
    top = folder(root(alice), "top")
    mid = folder(top, "mid")
    leaf = folder(mid, "leaf")
    share(top, "group", "team", Level.VIEW)
    share(mid, "user", "bob", Level.EDIT)
    assert access.level(bob, top) == Level.VIEW
    assert access.level(bob, leaf) == Level.EDIT
    assert team.name == "team"


def test_edit_implies_view_and_resharing_replaces_the_level(alice, bob):
    top = folder(root(alice), "top")
    share(top, "user", "bob", Level.EDIT)
    codes = set(NodeUserObjectPermission.objects.filter(user=bob).values_list("permission__codename", flat=True))
    assert codes == {"view_node", "change_node"}
    share(top, "user", "bob", Level.VIEW)
    assert access.level(bob, top) == Level.VIEW


def test_public_means_every_signed_in_user(alice, bob):
    top = folder(root(alice), "top")
    share(top, "public", None, Level.VIEW)
    assert access.level(bob, folder(top, "child")) == Level.VIEW
    assert list(sharing.shared_with_public()) == [top]
    assert list(sharing.shared_with(bob)) == []


def test_anonymous_reads_public_nodes_only_when_allowed(alice, settings):
    from django.contrib.auth.models import AnonymousUser

    top = folder(root(alice), "top")
    share(top, "public", None, Level.EDIT)
    assert access.level(AnonymousUser(), top) == Level.NONE
    settings.EM_PUBLIC_ANONYMOUS = True
    assert access.level(AnonymousUser(), top) == Level.VIEW  # never more than view


def test_unshare_removes_the_principals_grants_below_too(alice, bob, make_user):
    carol = make_user("carol")
    top = folder(root(alice), "top")
    below = folder(folder(top, "mid"), "below")
    share(top, "user", "bob", Level.VIEW)
    share(below, "user", "bob", Level.EDIT)
    share(below, "user", "carol", Level.VIEW)
    removed = sharing.unshare(node=top, of=sharing.principal("user", "bob"), by=alice)
    assert removed == 3  # view on top; view + change on below
    assert access.level(bob, below) == Level.NONE
    assert access.level(carol, below) == Level.VIEW


def test_a_moved_node_takes_exactly_the_destinations_permissions(alice, bob, make_user):
    carol = make_user("carol")
    shared = folder(root(alice), "shared")
    private = folder(root(alice), "private")
    moving = folder(private, "moving")
    inner = folder(moving, "inner")
    share(shared, "user", "bob", Level.VIEW)
    share(inner, "user", "carol", Level.EDIT)

    nodes.move_node(node=moving, destination=shared, by=alice)
    inner.refresh_from_db()
    assert paths.display_path(inner) == "/alice/shared/moving/inner"
    assert access.level(bob, inner) == Level.VIEW
    assert access.level(carol, inner) == Level.NONE  # its own grants were dropped

    nodes.move_node(node=moving, destination=private, by=alice)
    inner.refresh_from_db()
    assert access.level(bob, inner) == Level.NONE


def test_moving_into_itself_or_below_is_refused_and_changes_nothing(alice):
    a = folder(root(alice), "a")
    b = folder(a, "b")
    for destination in (a, b):
        with pytest.raises(errors.InvalidMove, match="into itself"):
            nodes.move_node(node=a, destination=destination, by=alice)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.parent_id, b.parent_id) == (root(alice).pk, a.pk)


def test_move_across_trees_needs_edit_on_both_ends(alice, bob):
    mine = folder(root(alice), "mine")
    theirs = folder(root(bob), "theirs")
    with pytest.raises(errors.NotFound):
        nodes.move_node(node=mine, destination=theirs, by=alice)
    share(theirs, "user", "alice", Level.VIEW, by=bob)
    with pytest.raises(errors.PermissionDenied):
        nodes.move_node(node=mine, destination=theirs, by=alice)
    share(theirs, "user", "alice", Level.EDIT, by=bob)
    child = folder(mine, "child")
    nodes.move_node(node=mine, destination=theirs, by=alice)
    child.refresh_from_db()
    assert child.owner == bob
    assert paths.display_path(child) == "/bob/theirs/mine/child"
    assert access.level(alice, child) == Level.EDIT


def test_move_with_a_name_clash_is_refused(alice):
    a = folder(root(alice), "a")
    folder(a, "x")
    x = folder(root(alice), "x")
    with pytest.raises(errors.NameClash):
        nodes.move_node(node=x, destination=a, by=alice)
    moved = nodes.move_node(node=x, destination=a, by=alice, name="x2")
    assert paths.display_path(moved) == "/alice/a/x2"


def test_a_shortcut_never_grants_access_to_its_target(alice, bob):
    secret = folder(root(alice), "secret")
    shared = folder(root(alice), "shared")
    link = folder(shared, "link", kind=Kind.SHORTCUT, target=secret)
    share(shared, "user", "bob", Level.EDIT)
    assert access.level(bob, link) == Level.EDIT
    assert access.level(bob, secret) == Level.NONE


def test_shortcut_target_must_be_visible_to_its_creator(alice, bob):
    secret = folder(root(alice), "secret")
    with pytest.raises(errors.NotFound):
        nodes.create_node(parent=root(bob), name="sneaky", kind=Kind.SHORTCUT, by=bob, target=secret)


def test_trash_and_restore_bring_the_subtree_back_in_place(alice, bob):
    top = folder(root(alice), "top")
    child = folder(top, "child")
    share(top, "user", "bob", Level.VIEW)
    trash.trash_node(node=top, by=alice)
    assert access.scope(Node.objects.all(), alice).filter(pk__in=[top.pk, child.pk]).count() == 0
    assert list(trash.trash_of(alice)) == [top]
    trash.restore_node(node=top, by=alice)
    child.refresh_from_db()
    assert child.deleted_at is None
    assert access.level(bob, child) == Level.VIEW  # grants survive the trash


def test_something_deleted_earlier_stays_in_the_trash_when_its_parent_is_restored(alice):
    top = folder(root(alice), "top")
    early = folder(top, "early")
    trash.trash_node(node=early, by=alice)
    trash.trash_node(node=top, by=alice)
    trash.restore_node(node=top, by=alice)
    early.refresh_from_db()
    assert early.deleted_at is not None
    assert early.trashed


def test_restore_goes_to_the_root_when_the_old_place_is_gone(alice):
    top = folder(root(alice), "top")
    child = folder(top, "child")
    folder(root(alice), "child")
    trash.trash_node(node=child, by=alice)
    trash.trash_node(node=top, by=alice)
    restored = trash.restore_node(node=child, by=alice)
    assert restored.parent_id == root(alice).pk
    assert restored.name == "child (2)"  # a new name on clash
    assert paths.display_path(restored) == "/alice/child (2)"


def test_restore_renames_on_clash_in_place(alice):
    a = folder(root(alice), "a")
    trash.trash_node(node=a, by=alice)
    folder(root(alice), "a")
    assert trash.restore_node(node=a, by=alice).name == "a (2)"


def test_purge_deletes_only_what_expired_and_is_idempotent(alice):
    old = folder(root(alice), "old")
    folder(old, "inside")
    fresh = folder(root(alice), "fresh")
    trash.trash_node(node=old, by=alice)
    trash.trash_node(node=fresh, by=alice)
    Node.objects.subtree(old.path).update(deleted_at=timezone.now() - timedelta(days=31))
    assert trash.purge_expired() == 2
    assert not Node.objects.filter(pk=old.pk).exists()
    assert Node.objects.filter(pk=fresh.pk).exists()
    assert trash.purge_expired() == 0


def test_purging_a_target_leaves_a_dangling_shortcut(alice):
    target = folder(root(alice), "target")
    link = folder(root(alice), "link", kind=Kind.SHORTCUT, target=target)
    trash.trash_node(node=target, by=alice)
    trash.delete_forever(node=target, by=alice)
    link.refresh_from_db()
    assert link.target_id is None


def test_deleting_a_user_root_is_refused(alice):
    with pytest.raises(errors.InvalidInput):
        trash.trash_node(node=root(alice), by=alice)
    with pytest.raises(errors.InvalidMove):
        nodes.move_node(node=root(alice), destination=folder(root(alice), "x"), by=alice)


def test_shares_of_lists_direct_and_inherited_grants(alice, bob, make_group):
    make_group("team", bob)
    top = folder(root(alice), "top")
    leaf = folder(top, "leaf")
    share(top, "group", "team", Level.VIEW)
    share(leaf, "user", "bob", Level.EDIT)
    share(leaf, "public", None, Level.VIEW)
    rows = {(s.principal_type, s.principal_name, s.level, s.granted_on.pk) for s in sharing.shares_of(leaf)}
    assert rows == {
        ("group", "team", Level.VIEW, top.pk),
        ("user", "bob", Level.EDIT, leaf.pk),
        ("public", None, Level.VIEW, leaf.pk),
    }


def test_only_the_owner_or_staff_may_share(alice, bob, make_user):
    top = folder(root(alice), "top")
    share(top, "user", "bob", Level.EDIT)
    with pytest.raises(errors.PermissionDenied, match="owner"):
        share(top, "public", None, Level.VIEW, by=bob)
    admin = make_user("admin", is_staff=True)
    share(top, "public", None, Level.VIEW, by=admin)
    assert NodeGroupObjectPermission.objects.filter(content_object=top).count() == 1


def test_scope_lists_own_shared_and_public_nodes_only(alice, bob, make_user):
    carol = make_user("carol")
    mine = folder(root(bob), "mine")
    shared = folder(root(alice), "shared")
    hidden = folder(root(alice), "hidden")
    public = folder(root(carol), "public")
    share(shared, "user", "bob", Level.VIEW)
    share(public, "public", None, Level.VIEW, by=carol)
    visible = set(access.scope(Node.objects.all(), bob).values_list("pk", flat=True))
    assert {mine.pk, shared.pk, public.pk, root(bob).pk} <= visible
    assert hidden.pk not in visible
    assert root(alice).pk not in visible
    editable = set(access.scope(Node.objects.all(), bob, minimum=Level.EDIT).values_list("pk", flat=True))
    assert shared.pk not in editable
    assert mine.pk in editable


def test_renaming_a_user_renames_their_root_and_so_their_paths(alice):
    exp = folder(root(alice), "exp")
    alice.username = "alice2"
    alice.save()
    assert paths.display_path(exp) == "/alice2/exp"


def test_deleting_a_user_deletes_their_whole_tree(alice, bob):
    top = folder(root(alice), "top")
    deep = chain(top, 5)[-1]
    share(top, "user", "bob", Level.EDIT)
    link = folder(root(bob), "link", kind=Kind.SHORTCUT, target=deep)
    alice.delete()
    assert not Node.objects.filter(pk__in=[top.pk, deep.pk]).exists()
    link.refresh_from_db()
    assert link.target_id is None


def test_new_children_never_reuse_a_segment_while_the_last_child_has_descendants(alice):
    parent = folder(root(alice), "p")
    first = folder(parent, "first")
    chain(first, 3)
    last = folder(parent, "last")
    chain(last, 3)
    newest = folder(parent, "newest")
    assert newest.path > last.path
    assert tree.parent_path(newest.path) == parent.path

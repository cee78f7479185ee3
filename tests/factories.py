"""Test data. Users and groups come from factories; nodes always go through the services, so every
test tree has the paths, owners and grants the real code would give it."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from em.models import Kind, Node
from em.services import nodes


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("secret-pass-123")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"team{n}")


def root(user: Any) -> Node:
    return nodes.root_of(user)


def folder(parent: Node, name: str, by: Any = None, kind: str = Kind.FOLDER, **fields: Any) -> Node:
    """A node made by the service as its parent's owner (or `by`)."""
    return nodes.create_node(parent=parent, name=name, kind=kind, by=by or parent.owner, **fields)


def chain(parent: Node, depth: int, prefix: str = "level") -> list[Node]:
    """`depth` nested folders below `parent`; the deepest last."""
    made = []
    for i in range(depth):
        parent = folder(parent, f"{prefix}{i}")
        made.append(parent)
    return made

"""The base of every view whose URL names a node: the node is loaded, and checked at the level the HTTP
method needs, before the handler runs (NetBox's restrict-by-action), so no view can forget the check.

`self.access` is the proof (node + level) handed to the services, which then ask nothing more;
`self.checker` remembers the caller's grants for the rest of the request (Wagtail's per-request
permission cache), so presenting the answer reads no grant again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rest_framework.request import Request
from rest_framework.views import APIView

from em import access, errors
from em.access import Access, Checker, Level
from em.models import Node, Run
from em.runs import services as run_services
from em.strict import refuse_unknown

READS = {"GET": Level.VIEW, "HEAD": Level.VIEW, "OPTIONS": Level.VIEW}


class CheckedView(APIView):
    """Any API view: a `Checker` for the caller, made once per request."""

    checker: Checker

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.checker = Checker(request.user)


class NodeView(CheckedView):
    """A view of one node, named by the URL's `node_kwarg`.

    Strangers get 404, viewers 403 on writes. With `trashed`, only trash entries are found, and only for
    their owner and staff (404 to everyone else, viewers and editors included).
    """

    node_kwarg: ClassVar[str] = "node_id"
    not_found: ClassVar[str] = "Node not found."
    trashed: ClassVar[bool] = False
    # The level each HTTP method needs on the node; a method not listed needs edit.
    needs: ClassVar[Mapping[str, Level]] = READS
    # Methods that take no body: a body sent anyway is refused (a key nobody reads changes nothing silently).
    bodiless: ClassVar[frozenset[str]] = frozenset({"DELETE"})
    # What the node is loaded with (`access.load`): what the answer presents of it.
    related: ClassVar[tuple[str, ...]] = access.PRESENTED

    access: Access

    @property
    def node(self) -> Node:
        return self.access.node

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not hasattr(self, (request.method or "").lower()):
            return  # 405 follows; nothing to load
        node = access.load(kwargs[self.node_kwarg], trashed=self.trashed, related=self.related)
        if node is None:
            raise errors.NotFound(self.not_found)
        self.checker.levels([node, *self.also_named(request)])  # one read of the grants for all of them
        self.access = self.checker.check(node, self.need(request), not_found=self.not_found)
        if request.method in self.bodiless:
            refuse_unknown(request.data, [])

    def need(self, request: Request) -> Level:
        if self.trashed:
            return Level.OWNER
        return self.needs.get(request.method or "GET", Level.EDIT)

    def also_named(self, request: Request) -> list[Node]:
        """Other nodes the request names (found, unchecked), checked with the same read of the grants."""
        return []


class RunView(NodeView):
    """A view of one run, named by the URL's `run_id`: a node view that also loads the run row."""

    node_kwarg = "run_id"
    not_found = "Run not found."
    related = (*NodeView.related, "run")  # the run row in the same query (`run_of` finds it there)

    @property
    def run(self) -> Run:
        return self.node.run

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if hasattr(self, "access"):
            run_services.run_of(self.node)

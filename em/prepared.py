"""Lookups made on every API request, their SQL compiled once instead of on every call.

The ORM builds and compiles a queryset's SQL each time it runs it. For the two lookups nearly every API
request makes, the bearer key with its user (`accounts.services.authenticate_key`) and the node the URL
names (`em.access.load`), that cost about half a millisecond each: as much as the SQL itself, and a tenth
of a small request (`bench/runs.py --vs-mlflow`). A `Prepared` lookup compiles its queryset once per
database connection (a compiler belongs to its connection, and each thread has its own) and afterwards
only binds the value looked up. Its rows still go through the compiler's converters and the populators
that `select_related` uses, so the instances are exactly those the queryset would have made, and the
statement goes through Django's cursor, so query logging and counting see it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)


class Prepared(Generic[M]):
    """At most one instance of a queryset that filters by one value, its SQL compiled once per connection.

    `build(value)` gives the queryset for one value of `field` (filtering by it exactly once, with no
    other parameter equal to it); `sentinel` is any valid value of that field, used to compile the
    template and to find where the value lands among the SQL's parameters.
    """

    def __init__(self, build: Callable[[Any], QuerySet[M]], field: Field[Any, Any], sentinel: Any) -> None:
        self._build = build
        self._field = field
        self._sentinel = sentinel

    def first(self, value: Any, using: str = "default") -> M | None:
        connection = connections[using]
        compiled = connection.__dict__.setdefault("em_prepared", {})
        if self not in compiled:
            compiled[self] = self._compile(using)
        compiler, sql, params, at, populators = compiled[self]
        bound = list(params)
        bound[at] = self._field.get_db_prep_value(self._field.to_python(value), connection, prepared=False)
        with connection.cursor() as cursor:
            cursor.execute(sql, bound)
            rows = cursor.fetchmany(1)
        if not rows:
            return None
        row = next(iter(compiler.results_iter([rows])))  # through the converters the fields ask for
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        names = [column[0].target.attname for column in select[start:end]]
        instance: M = klass_info["model"].from_db(using, names, row[start:end])
        for populator in populators:  # the select_related relations, as ModelIterable fills them
            populator.populate(row, instance)
        return instance

    def _compile(self, using: str) -> tuple[Any, str, tuple[Any, ...], int, list[Any]]:
        compiler = self._build(self._sentinel).query.get_compiler(using=using)
        sql, params = compiler.as_sql()  # also sets up what results_iter and the populators read
        marker = self._field.get_db_prep_value(self._sentinel, connections[using], prepared=False)
        places = [i for i, param in enumerate(params) if param == marker]
        if len(places) != 1:
            raise ValueError(f"the value must appear once among the query's parameters, not {len(places)} times")
        # Django 5.2's signature; the stubs follow 6.x, which adds a fetch mode (pinned by tests/test_prepared.py).
        populators = get_related_populators(compiler.klass_info, compiler.select, using)  # type: ignore[call-arg]
        return compiler, sql, tuple(params), places[0], populators

"""No index of ours that another index already serves.

Django gives every foreign key an index of its own. Where a unique constraint or an index of the same
table starts with that column (`(run_id, key)` for a run's params, `(series_id, seq)` for a series'
chunks), a lookup by the column alone is served by the longer index just as well, and the single-column
one only costs: another B-tree written on every insert (ten params, five series and five chunks a run
created), vacuumed and kept in memory. Both tests name each such index; the first reads the models, so
it fails on any database, the second reads PostgreSQL's catalog after migrations, so it also catches two
`Meta.indexes` where one is a prefix of the other.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

OUR_APPS = ("em", "assethub", "accounts")


def _leading_columns(model: type[models.Model]) -> list[tuple[str, ...]]:
    """The key columns of every index the model declares that covers all its rows, longest first."""
    meta = model._meta
    column = {field.name: field.column for field in meta.local_fields}
    column.update({field.attname: field.column for field in meta.local_fields})
    found: list[tuple[str, ...]] = []
    for index in meta.indexes:
        if index.condition is None and index.fields:
            found.append(tuple(column[name.lstrip("-")] for name in index.fields))
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None and constraint.fields:
            found.append(tuple(column[name] for name in constraint.fields))
    for together in meta.unique_together:
        found.append(tuple(column[name] for name in together))
    return sorted(found, key=len, reverse=True)


def test_no_foreign_key_keeps_an_index_a_longer_one_already_serves() -> None:
    redundant = []
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models():
            longer = _leading_columns(model)
            for field in model._meta.local_fields:
                if not field.db_index or field.unique or field.primary_key:
                    continue
                served_by = [cols for cols in longer if len(cols) > 1 and cols[0] == field.column]
                if served_by:
                    redundant.append(f"{model._meta.label}.{field.name} (served by {served_by[0]})")
    assert redundant == [], "set db_index=False on: " + ", ".join(redundant)


@pytest.mark.postgres
@pytest.mark.django_db
def test_no_index_of_ours_is_a_prefix_of_another_on_postgresql() -> None:
    tables = tuple(model._meta.db_table for label in OUR_APPS for model in apps.get_app_config(label).get_models())
    assert len(tables) > 20, tables  # every model of ours, so the check below reads something
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH idx AS (
                SELECT i.indrelid::regclass::text AS tbl, i.indexrelid::regclass::text AS name,
                       i.indisunique AS uniq, i.indpred IS NOT NULL AS partial,
                       (i.indkey::int2[])[0:i.indnkeyatts - 1] AS cols, i.indrelid, i.indexprs IS NOT NULL AS expr
                FROM pg_index i
                WHERE i.indrelid::regclass::text = ANY(%s)
            )
            SELECT a.tbl, a.name, b.name
            FROM idx a JOIN idx b ON a.indrelid = b.indrelid AND a.name <> b.name
            WHERE NOT a.uniq AND NOT a.partial AND NOT a.expr AND NOT b.partial AND NOT b.expr
              AND cardinality(b.cols) > cardinality(a.cols)
              AND b.cols[1:cardinality(a.cols)] = a.cols
            ORDER BY 1, 2
            """,
            [list(tables)],
        )
        found = cursor.fetchall()
    assert found == [], "indexes another index already serves: " + ", ".join(f"{a}.{i} (by {j})" for a, i, j in found)

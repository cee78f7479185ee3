"""Run search reads text params and tags by index only, and joins the series it orders by straight to the node.

`prefix` (the first `TEXT_PREFIX` characters of `value`) becomes a stored generated column, indexed with
`key` and carrying `run_id`, in place of the index on the expression `left(value, 100)`: PostgreSQL
could use that index only to find rows, then read each row's `value` from the table to recheck it
(~900 pages for the 2,500 runs of 10,000 matching `params.optimizer = 'adam'`), while the new one
hands over run ids by an index-only scan. The multivariate statistics of 0008 move to the column (on
`left(value, 100)` they would describe an expression no query writes any more). Adding a stored column
rewrites em_param and em_tag under an exclusive lock: runs cannot be indexed or searched meanwhile (on
this machine ~1 s per 100,000 params, so ~10 s at the 1,000,000 of ARCHITECTURE.md §6's 100,000 runs).

`node` on params, metric series and tags is a relation without a column (it reads `run_id`): see
`em.models.runs._run_node`. It changes no table.
"""

from collections.abc import Callable

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

OLD = {
    "em_param_key_stats": ("em_param", "key, number, left(value, 100)"),
    "em_tag_key_stats": ("em_tag", "key, left(value, 100)"),
}
NEW = {
    "em_param_key_stats": ("em_param", "key, number, prefix"),
    "em_tag_key_stats": ("em_tag", "key, prefix"),
}


def _statistics(statistics: dict[str, tuple[str, str]]) -> Callable[[StateApps, BaseDatabaseSchemaEditor], None]:
    def replace(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, (table, columns) in statistics.items():
            schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")
            schema_editor.execute(f"CREATE STATISTICS {name} (mcv, dependencies) ON {columns} FROM {table}")
        for table in ("em_param", "em_tag"):
            schema_editor.execute(f"ANALYZE {table}")

    return replace


def _prefix() -> models.GeneratedField:
    return models.GeneratedField(
        db_persist=True,
        expression=django.db.models.functions.text.Left("value", 100),
        output_field=models.TextField(),
    )


def _run_node(related_name: str) -> models.ForeignObject:
    return models.ForeignObject(
        editable=False,
        from_fields=["run"],
        on_delete=django.db.models.deletion.DO_NOTHING,
        related_name=related_name,
        to="em.node",
        to_fields=["id"],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("em", "0016_history_chunk_overview_fine"),
    ]

    operations = [
        migrations.AddField(model_name="param", name="prefix", field=_prefix()),
        migrations.AddField(model_name="tag", name="prefix", field=_prefix()),
        migrations.AddIndex(
            model_name="param",
            index=models.Index(fields=["key", "prefix"], include=("run_id",), name="em_param_key_prefix"),
        ),
        migrations.AddIndex(
            model_name="tag",
            index=models.Index(fields=["key", "prefix"], include=("run_id",), name="em_tag_key_prefix"),
        ),
        migrations.RemoveIndex(model_name="param", name="em_param_key_text"),
        migrations.RemoveIndex(model_name="tag", name="em_tag_key_text"),
        migrations.RunPython(_statistics(NEW), _statistics(OLD)),
        # No column, so nothing to do in the database (SQLite would copy the tables, and could not undo it).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name="param", name="node", field=_run_node("run_params")),
                migrations.AddField(model_name="metricseries", name="node", field=_run_node("run_metrics")),
                migrations.AddField(model_name="tag", name="node", field=_run_node("run_tags")),
            ]
        ),
    ]

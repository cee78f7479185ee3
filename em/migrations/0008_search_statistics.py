"""What run search needs from PostgreSQL to plan well over 100,000 runs (ARCHITECTURE.md §6).

The key indexes carry `run_id`, so each filter term is an index-only scan handing run ids to a hash
semi-join; text params and tags are indexed by key and their first 100 characters (see
`em.models.runs.TEXT_PREFIX`). Without multivariate statistics PostgreSQL multiplies the selectivity of
`key = 'lr'` by that of `number <= 0.01` as if they were independent, under-estimates every term several
times over and picks a nested loop per run; the MCV lists of (key, value) pairs fix those estimates.
"""

import django.db.models.functions.text
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

STATISTICS = {
    "em_param_key_stats": ("em_param", "key, number, left(value, 100)"),
    "em_tag_key_stats": ("em_tag", "key, left(value, 100)"),
}


def create_statistics(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, columns) in STATISTICS.items():
        schema_editor.execute(f"CREATE STATISTICS IF NOT EXISTS {name} (mcv, dependencies) ON {columns} FROM {table}")
    for table in ("em_param", "em_tag", "em_metricseries"):
        schema_editor.execute(f"ANALYZE {table}")


def drop_statistics(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in STATISTICS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("em", "0007_uploads"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="metricseries",
            name="em_metric_key_latest",
        ),
        migrations.RemoveIndex(
            model_name="metricseries",
            name="em_metric_key_min",
        ),
        migrations.RemoveIndex(
            model_name="metricseries",
            name="em_metric_key_max",
        ),
        migrations.RemoveIndex(
            model_name="param",
            name="em_param_key_number",
        ),
        migrations.RemoveIndex(
            model_name="tag",
            name="em_tag_key",
        ),
        migrations.AddIndex(
            model_name="metricseries",
            index=models.Index(fields=["key", "latest"], include=("run_id",), name="em_metric_key_latest"),
        ),
        migrations.AddIndex(
            model_name="metricseries",
            index=models.Index(fields=["key", "min"], include=("run_id",), name="em_metric_key_min"),
        ),
        migrations.AddIndex(
            model_name="metricseries",
            index=models.Index(fields=["key", "max"], include=("run_id",), name="em_metric_key_max"),
        ),
        migrations.AddIndex(
            model_name="param",
            index=models.Index(fields=["key", "number"], include=("run_id",), name="em_param_key_number"),
        ),
        migrations.AddIndex(
            model_name="param",
            index=models.Index(
                models.F("key"), django.db.models.functions.text.Left("value", 100), name="em_param_key_text"
            ),
        ),
        migrations.AddIndex(
            model_name="tag",
            index=models.Index(
                models.F("key"), django.db.models.functions.text.Left("value", 100), name="em_tag_key_text"
            ),
        ),
        migrations.RunPython(create_statistics, drop_statistics),
    ]

"""Chunk overviews (em/runs/overview.py): the new column, kept uncompressed and out of line on PostgreSQL
like the arrays (0009), and filled for the chunks already stored, a batch at a time."""

import numpy as np
from django.db import migrations, models

from em.runs import overview

BATCH = 50  # chunks per round trip: up to ~16 MB of arrays in memory
ARRAYS = (("steps", "<i8"), ("epochs", "<i8"), ("timestamps", "<f8"), ("values", "<f8"))


def uncompressed_overview(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE em_metricchunk ALTER COLUMN "overview" SET STORAGE EXTERNAL')


def fill_overviews(apps, schema_editor):
    MetricChunk = apps.get_model("em", "MetricChunk")
    chunks = MetricChunk.objects.using(schema_editor.connection.alias).order_by("pk")
    after = 0
    while batch := list(chunks.filter(pk__gt=after).only("pk", *(name for name, _ in ARRAYS))[:BATCH]):
        for chunk in batch:
            arrays = (np.frombuffer(getattr(chunk, name), dtype=dtype) for name, dtype in ARRAYS)
            chunk.overview = overview.build(*arrays)
        MetricChunk.objects.using(schema_editor.connection.alias).bulk_update(batch, ["overview"])
        after = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ("em", "0009_run_scope_index_and_chunk_storage"),
    ]

    operations = [
        migrations.AddField(
            model_name="metricchunk",
            name="overview",
            field=models.BinaryField(default=b""),
            preserve_default=False,
        ),
        migrations.RunPython(uncompressed_overview, migrations.RunPython.noop),
        migrations.RunPython(fill_overviews, migrations.RunPython.noop),
    ]

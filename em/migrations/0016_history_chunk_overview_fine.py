"""Chunk overviews in the layout of em/runs/overview.py `MAGIC`: a header with the chunk's end points, and
a finer level (1,024 sub-buckets a chunk) after the two there were. Every overview of the older layout is
rebuilt from its chunk's arrays, a batch at a time; the reader never takes one for the new layout (it
reads the points of a series holding one), so the site answers correctly while this runs. Going back
cuts each overview down to the older layout (its two levels, the coarse one padded), which the code of
then reads without knowing of a header."""

import numpy as np
from django.db import migrations
from django.db.models import BinaryField
from django.db.models.functions import Substr

from em.runs import overview

BATCH = 50  # chunks per round trip: up to ~16 MB of arrays in memory
ARRAYS = (("steps", "<i8"), ("epochs", "<i8"), ("timestamps", "<f8"), ("values", "<f8"))


def rebuild_overviews(apps, schema_editor):
    MetricChunk = apps.get_model("em", "MetricChunk")
    chunks = MetricChunk.objects.using(schema_editor.connection.alias).order_by("pk")
    head = Substr("overview", 1, len(overview.MAGIC), output_field=BinaryField())
    after = 0
    while batch := list(chunks.filter(pk__gt=after).annotate(head=head).values_list("pk", "head")[: BATCH * 20]):
        stale = [pk for pk, magic in batch if bytes(magic) != overview.MAGIC]
        for start in range(0, len(stale), BATCH):
            rebuilt = list(chunks.filter(pk__in=stale[start : start + BATCH]).only("pk", *(n for n, _ in ARRAYS)))
            for chunk in rebuilt:
                arrays = (np.frombuffer(getattr(chunk, name), dtype=dtype) for name, dtype in ARRAYS)
                chunk.overview = overview.build(*arrays)
            MetricChunk.objects.using(schema_editor.connection.alias).bulk_update(rebuilt, ["overview"])
        after = batch[-1][0]


def older_layout(apps, schema_editor):
    MetricChunk = apps.get_model("em", "MetricChunk")
    chunks = MetricChunk.objects.using(schema_editor.connection.alias).order_by("pk")
    coarse, middle = (size * overview.DTYPE.itemsize for size in overview.LEVELS[:2])
    after = 0
    while batch := list(chunks.filter(pk__gt=after).only("pk", "overview")[:BATCH]):
        for chunk in batch:
            data = overview.expanded(bytes(chunk.overview))  # a one-point chunk may hold its header alone
            if data[: len(overview.MAGIC)] == overview.MAGIC:
                start = overview.HEADER_BYTES
                subs = np.frombuffer(data[start + coarse : start + coarse + middle], dtype=overview.DTYPE)
                chunk.overview = data[start : start + coarse] + subs[subs["count"] > 0].tobytes()
        MetricChunk.objects.using(schema_editor.connection.alias).bulk_update(batch, ["overview"])
        after = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("em", "0015_autotune"),
    ]

    operations = [
        migrations.RunPython(rebuild_overviews, older_layout),
    ]

# A lineage edge to a model or dataset names the version its reference resolved to (em.services.lineage.refs).

from django.db import migrations, models
from django.db.models import Min


def drop_duplicates(apps, schema_editor):
    """Edges that differ only in their `ref` text become duplicates under the new constraint: keep one."""
    LineageEdge = apps.get_model("em", "LineageEdge")
    keep = (
        LineageEdge.objects.values("run_id", "direction", "other_id")
        .annotate(first=Min("id"))
        .values_list("first", flat=True)
    )
    LineageEdge.objects.exclude(id__in=list(keep)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("em", "0012_index_requests"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="lineageedge",
            name="em_lineage_edge_unique",
        ),
        migrations.AddField(
            model_name="lineageedge",
            name="version",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        migrations.RunPython(drop_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="lineageedge",
            constraint=models.UniqueConstraint(
                fields=("run", "direction", "other", "version"), name="em_lineage_edge_unique"
            ),
        ),
    ]

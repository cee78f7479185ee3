"""Node.bundle_id: the `alternativeName` of the bundle an upload made the node from (em.services.identity)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("em", "0013_lineage_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="node",
            name="bundle_id",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddIndex(
            model_name="node",
            index=models.Index(
                condition=models.Q(("bundle_id", ""), _negated=True),
                fields=["parent", "bundle_id"],
                name="em_node_bundle",
            ),
        ),
    ]

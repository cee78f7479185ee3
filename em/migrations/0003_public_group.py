"""The reserved group that stands for *public* in grants (see em.access.PUBLIC_GROUP)."""

from django.db import migrations

PUBLIC_GROUP = "__public__"


def create(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=PUBLIC_GROUP)


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=PUBLIC_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [("em", "0002_path_binary_collation"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create, remove)]

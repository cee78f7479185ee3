"""Compare `Node.path` bytewise on PostgreSQL.

Subtree queries are ranges (`path >= p AND path < p || '~'`), which need byte order; a linguistic
collation may interleave other strings into the range and cannot serve `LIKE 'p%'` from the index.
SQLite compares bytes already (BINARY), so there is nothing to do there.
"""

from django.db import migrations


def binary_path(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE em_node ALTER COLUMN path TYPE varchar(325) COLLATE "C"')


def linguistic_path(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE em_node ALTER COLUMN path TYPE varchar(325) COLLATE "default"')


class Migration(migrations.Migration):
    dependencies = [("em", "0001_initial")]
    operations = [migrations.RunPython(binary_path, linguistic_path)]

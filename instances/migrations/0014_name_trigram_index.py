"""PostgreSQL only: pg_trgm and a trigram index on UPPER(name), which serves the run list's
substring search (Django's icontains is UPPER(name::text) LIKE UPPER('%…%')). SQLite, the
zero-setup default, has no such index and scans. pg_trgm is a trusted extension: the
database's owner may create it."""

from django.db import migrations

INDEX = "instance_name_trgm_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON instances_instance "
        "USING gin (UPPER(name::text) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("instances", "0013_indexes_for_every_sort_and_owner")]

    operations = [migrations.RunPython(create, drop)]

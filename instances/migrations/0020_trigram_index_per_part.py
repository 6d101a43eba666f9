"""PostgreSQL only: the name's trigram index split by the run list's parts, top-level runs
and steps (dashboard.search reads each apart): a name common among top-level runs no longer
drags their rows through a search of steps, nor the other way round, and each index's
predicate spares the planner ANDing in a bitmap of every top-level run."""

from django.db import migrations

PARTS = {"instance_root_name_trgm_idx": "parent_id IS NULL",
         "instance_step_name_trgm_idx": "parent_id IS NOT NULL"}
WHOLE = "instance_name_trgm_idx"
TRIGRAMS = "USING gin (UPPER(name::text) gin_trgm_ops)"


def split(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, part in PARTS.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON instances_instance {TRIGRAMS} WHERE {part}"
        )
    schema_editor.execute(f"DROP INDEX IF EXISTS {WHOLE}")


def join(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {WHOLE} ON instances_instance {TRIGRAMS}")
    for name in PARTS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("instances", "0019_signature_index")]

    operations = [migrations.RunPython(split, join)]

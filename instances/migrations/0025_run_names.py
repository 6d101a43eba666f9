"""The names runs have had, for a search by part of a name (instances.models.RunName).

PostgreSQL keeps them with triggers on every write of a run, inserted or renamed, whoever
writes it (sync, a bulk load, COPY), and finds them by a trigram index. The names are taken
in order, so two writers of the same new names wait for each other rather than deadlock.
SQLite, the zero-setup default, scans its runs for a search and keeps no names."""

import django.db.models.deletion
from django.db import migrations, models

KEEP = """
CREATE FUNCTION instances_keep_run_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO instances_runname (backend_id, name, folded, step)
    SELECT DISTINCT backend_id, name, UPPER(name), parent_id IS NOT NULL FROM written
    ORDER BY 1, 2, 4 ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE FUNCTION instances_keep_run_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO instances_runname (backend_id, name, folded, step)
    VALUES (NEW.backend_id, NEW.name, UPPER(NEW.name), NEW.parent_id IS NOT NULL)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER instances_run_names_inserted AFTER INSERT ON instances_instance
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION instances_keep_run_names();
CREATE TRIGGER instances_run_name_changed AFTER UPDATE OF name ON instances_instance
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION instances_keep_run_name();
CREATE INDEX run_name_trgm_idx ON instances_runname USING gin (folded gin_trgm_ops);
INSERT INTO instances_runname (backend_id, name, folded, step)
SELECT DISTINCT backend_id, name, UPPER(name), parent_id IS NOT NULL FROM instances_instance
ON CONFLICT DO NOTHING;
"""

FORGET = """
DROP TRIGGER IF EXISTS instances_run_names_inserted ON instances_instance;
DROP TRIGGER IF EXISTS instances_run_name_changed ON instances_instance;
DROP FUNCTION IF EXISTS instances_keep_run_names();
DROP FUNCTION IF EXISTS instances_keep_run_name();
"""


def keep(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(KEEP)


def forget(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORGET)


class Migration(migrations.Migration):
    dependencies = [("instances", "0024_backend_not_before")]

    operations = [
        migrations.CreateModel(
            name="RunName",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=500)),
                ("folded", models.CharField(max_length=500)),
                ("step", models.BooleanField()),
                (
                    "backend",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="instances.backend",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("backend", "name", "step"), name="run_name_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(keep, forget),
    ]

from django.apps import AppConfig


class LineageConfig(AppConfig):
    """Runs pushed to Runboard as OpenLineage events (POST /api/v1/lineage), beside the
    polled backends: received, validated, kept, and folded into runs."""

    name = "instances.lineage"
    label = "lineage"
    verbose_name = "OpenLineage"
    default_auto_field = "django.db.models.BigAutoField"

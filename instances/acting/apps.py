from django.apps import AppConfig


class ActingConfig(AppConfig):
    """Actions on vendors started from Runboard (retry, stop, rerun…): offered by role and
    state, previewed, confirmed, sent once, followed to their outcome, and audited."""

    name = "instances.acting"
    label = "acting"
    verbose_name = "Actions"
    default_auto_field = "django.db.models.BigAutoField"

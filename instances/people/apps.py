from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """Who is in which team, in which role, and who changed that: the one source of what a
    person may see (instances.models.team_scope) and do."""

    name = "instances.people"
    label = "people"
    verbose_name = "People"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Alerting as its own app: it reads what sync wrote and reacts to each stored page as an
    observer (connected here), so nothing below it imports alerting."""

    name = "instances.alerts"
    label = "alerts"
    verbose_name = "Alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from instances import observers

        from .evaluate import on_transitions

        observers.register(on_transitions)

from django.apps import AppConfig


class InstancesConfig(AppConfig):
    name = "instances"
    verbose_name = "Runs"

    def ready(self) -> None:
        from . import lookups  # noqa: F401  (registers `__any`)

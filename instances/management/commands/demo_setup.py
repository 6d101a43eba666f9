from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from instances.models import Backend
from instances.registry import parts

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105 - printed to the terminal on purpose, DEBUG only


def demo_backends() -> list[tuple[Backend, dict]]:
    """Every vendor's demo backends (unsaved) with their credentials."""
    return [
        (Backend(**fields), secrets)
        for demo in parts("demo").values()
        for fields, secrets in demo.BACKENDS
    ]


class Command(BaseCommand):
    help = "DEBUG only: the demo superuser and one backend per vendor API, on the emulator."

    def add_arguments(self, parser):
        parser.add_argument("--emulator-url", default="http://127.0.0.1:9000")

    def handle(self, *args, emulator_url, **options):
        if not settings.DEBUG:
            raise CommandError("The demo setup exists only in DEBUG mode.")
        user, _ = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        for backend, secrets in demo_backends():
            stored, _ = Backend.objects.get_or_create(
                name=backend.name,
                defaults={"kind": backend.kind, "scope": backend.scope, "poll_interval": 10},
            )
            stored.base_url = emulator_url
            stored.credentials = secrets
            stored.save()
        self.stdout.write(f"Demo login {DEMO_USERNAME} / {DEMO_PASSWORD}")

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from instances.alerts.models import AlertRule, Channel
from instances.models import Backend
from instances.people import roles
from instances.people.models import Role
from instances.registry import parts

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105 - printed to the terminal on purpose, demo only
DEMO_TEAM = "demo"
# The demo's on-call: email, written to the log by the default EMAIL_URL (consolemail://).
DEMO_MAIL = "oncall@demo.invalid"
DEMO_RULES: list[dict[str, Any]] = [
    {"name": "failures", "kind": AlertRule.Kind.FAILED},
    {"name": "stuck runs", "kind": AlertRule.Kind.STUCK, "silent_minutes": 60},
    {"name": "missed schedules", "kind": AlertRule.Kind.MISSING},
    {"name": "stale backends", "kind": AlertRule.Kind.STALE},
]


def demo_backends() -> list[tuple[Backend, dict]]:
    """Every vendor's demo backends (unsaved) with their credentials."""
    return [
        (Backend(**fields), secrets)
        for demo in parts("demo").values()
        for fields, secrets in demo.BACKENDS
    ]


class Command(BaseCommand):
    help = (
        "The demo: a login in a demo team, one backend per vendor API on the emulator, and "
        "alert rules that mail the demo's on-call (the log). DEBUG only, unless --outside-debug."
    )

    def add_arguments(self, parser):
        parser.add_argument("--emulator-url", default="http://127.0.0.1:9000")
        parser.add_argument(
            "--outside-debug",
            action="store_true",
            help="set up the demo though DEBUG is off (docker compose --profile demo)",
        )

    def handle(self, *args, emulator_url, outside_debug, **options):
        if not (settings.DEBUG or outside_debug):
            raise CommandError("The demo setup runs in DEBUG mode, or with --outside-debug.")
        team, _ = Group.objects.get_or_create(name=DEMO_TEAM)
        user, _ = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        roles.place(user, team, Role.ADMIN)
        for backend, secrets in demo_backends():
            stored, _ = Backend.objects.get_or_create(
                name=backend.name,
                defaults={"kind": backend.kind, "scope": backend.scope, "poll_interval": 10},
            )
            # a demo backend's base_url, if any, is its path on the emulator
            stored.base_url, stored.team = emulator_url.rstrip("/") + backend.base_url, team
            stored.credentials = secrets
            stored.may_act = True  # the emulator answers every documented action
            stored.save()
        alert_rules(team)
        self.stdout.write(f"Demo login {DEMO_USERNAME} / {DEMO_PASSWORD}")


def alert_rules(team: Group) -> None:
    """The demo team's rules over all its backends, told to the demo's on-call mail."""
    mail = Channel.objects.filter(team=team, name="demo on-call").first()
    if mail is None:
        mail = Channel(team=team, name="demo on-call", kind=Channel.Kind.EMAIL)
        mail.target = DEMO_MAIL
        mail.save()
    for fields in DEMO_RULES:
        rule, _ = AlertRule.objects.update_or_create(
            team=team, name=fields["name"], defaults=fields
        )
        rule.channels.add(mail)

from pathlib import Path

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from instances.backends_file import BackendsFileError, parse
from instances.models import Backend

FIELDS = ("kind", "base_url", "poll_interval", "timezone", "enabled", "scope", "may_act")


class Command(BaseCommand):
    help = "Create or update backends from a TOML file (all or nothing); --dry-run shows the diff."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, path, dry_run, **options):
        try:
            specs = parse(Path(path).read_text())
        except (OSError, BackendsFileError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        with transaction.atomic():
            for spec in specs:
                backend = Backend.objects.filter(name=spec.name).first()
                changes = self.apply(backend or Backend(name=spec.name), spec)
                verb = "create" if backend is None else ("update" if changes else "unchanged")
                detail = f": {', '.join(changes)}" if changes and backend else ""
                self.stdout.write(f"{verb} {spec.name}{detail}")
            if dry_run:
                transaction.set_rollback(True)
                self.stdout.write("dry run: nothing written")

    def team(self, name: str) -> Group:
        """The team named in the file; a new one is said out loud (a typo makes a new team)."""
        team, created = Group.objects.get_or_create(name=name)
        if created:
            self.stdout.write(f"new team {name}: no team had this name")
        return team

    def apply(self, backend: Backend, spec) -> list[str]:
        changes = [
            f"{field} {getattr(backend, field)!r} → {getattr(spec, field)!r}"
            for field in FIELDS
            if getattr(backend, field) != getattr(spec, field)
        ]
        for field in FIELDS:
            setattr(backend, field, getattr(spec, field))
        team = self.team(spec.team) if spec.team else None
        if backend.team_id != (team.pk if team else None):
            changes.append(f"team → {spec.team}")
            backend.team = team
        if backend.pk is None or backend.credentials != spec.credentials:
            changes.append("credentials changed")
            backend.credentials = spec.credentials
        if backend.acting_credentials != spec.acting_credentials:
            changes.append("acting credentials changed")
            backend.acting_credentials = spec.acting_credentials
        backend.save()
        return changes

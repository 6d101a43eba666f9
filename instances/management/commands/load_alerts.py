from pathlib import Path

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from instances.alerts.models import AlertRule, Channel
from instances.alerts.rules_file import ChannelSpec, ProductSpec, RuleSpec, parse
from instances.backends_file import BackendsFileError
from instances.models import Backend, DataProduct


class Command(BaseCommand):
    help = (
        "Create or update alert channels, data products and rules from a TOML file (all or "
        "nothing), by team and name; --dry-run shows what would change."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, path, dry_run, **options):
        try:
            loaded = parse(Path(path).read_text())
            with transaction.atomic():
                for channel in loaded.channels:
                    self.report("channel", channel.name, *self.channel(channel))
                for product in loaded.products:
                    self.report("product", product.name, *self.product(product))
                for rule in loaded.rules:
                    self.report("rule", rule.name, *self.rule(rule))
                if dry_run:
                    transaction.set_rollback(True)
                    self.stdout.write("dry run: nothing written")
        except (OSError, BackendsFileError) as exc:
            raise CommandError(f"{path}: {exc}") from exc

    def report(self, what: str, name: str, created: bool, changes: list[str]) -> None:
        verb = "create" if created else ("update" if changes else "unchanged")
        detail = f": {', '.join(changes)}" if changes and not created else ""
        self.stdout.write(f"{verb} {what} {name}{detail}")

    def channel(self, spec: ChannelSpec) -> tuple[bool, list[str]]:
        team = Group.objects.get_or_create(name=spec.team)[0]
        found = Channel.objects.filter(team=team, name=spec.name).first()
        channel = found or Channel(team=team, name=spec.name)
        wanted = {
            "kind": spec.kind,
            "max_per_minute": spec.max_per_minute,
            "group_seconds": spec.group_seconds,
            "enabled": spec.enabled,
        }
        changes = [
            f"{key} → {value!r}" for key, value in wanted.items() if getattr(channel, key) != value
        ]
        for key, value in wanted.items():
            setattr(channel, key, value)
        if found is None or channel.target != spec.target:
            changes.append("target changed")
            channel.target = spec.target
        channel.save()
        return found is None, changes

    def product(self, spec: ProductSpec) -> tuple[bool, list[str]]:
        """Its definitions exactly as the file lists them."""
        team = Group.objects.get_or_create(name=spec.team)[0]
        product, created = DataProduct.objects.get_or_create(team=team, name=spec.name)
        backends = {b.name: b for b in Backend.objects.filter(team=team)}
        wanted = set()
        for backend, definition in spec.parts:
            if backend not in backends:
                why = f"backend {backend!r} is not a backend of team {spec.team!r}"
                raise BackendsFileError(None, f"product {spec.name!r}: {why}")
            wanted.add((backends[backend].pk, definition))
        held = set(product.parts.values_list("backend_id", "definition_id"))
        for backend_id, definition in wanted - held:
            product.parts.create(backend_id=backend_id, definition_id=definition)
        for backend_id, definition in held - wanted:
            product.parts.filter(backend_id=backend_id, definition_id=definition).delete()
        changed = [f"{len(wanted - held)} definitions in, {len(held - wanted)} out"]
        return created, changed if wanted != held else []

    def rule(self, spec: RuleSpec) -> tuple[bool, list[str]]:
        team = Group.objects.get_or_create(name=spec.team)[0]
        backend = product = None
        if spec.backend:
            backend = Backend.objects.filter(name=spec.backend, team=team).first()
            if backend is None:
                why = f"backend {spec.backend!r} is not a backend of team {spec.team!r}"
                raise BackendsFileError(None, f"rule {spec.name!r}: {why}")
        if spec.product:
            product = DataProduct.objects.filter(name=spec.product, team=team).first()
            if product is None:
                why = f"product {spec.product!r} is not a data product of team {spec.team!r}"
                raise BackendsFileError(None, f"rule {spec.name!r}: {why}")
        found = AlertRule.objects.filter(team=team, name=spec.name).first()
        rule = found or AlertRule(team=team, name=spec.name)
        wanted = {
            "kind": spec.kind,
            "enabled": spec.enabled,
            "backend": backend,
            "product": product,
            **spec.fields,
        }
        changes = [
            f"{key} → {value}" for key, value in wanted.items() if getattr(rule, key) != value
        ]
        for key, value in wanted.items():
            setattr(rule, key, value)
        rule.save()
        channels = set(Channel.objects.filter(team=team, name__in=spec.channels))
        if set(rule.channels.all()) != channels:
            changes.append(f"channels → {', '.join(sorted(c.name for c in channels))}")
            rule.channels.set(channels)
        return found is None, changes

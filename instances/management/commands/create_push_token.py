from django.core.management.base import BaseCommand, CommandError

from instances import crypto
from instances.models import Backend
from instances.registry import PUSHED_KINDS


class Command(BaseCommand):
    help = (
        "A new bearer token for a push (OpenLineage) backend, shown once; only its hash is "
        "kept, and the backend's previous token stops working."
    )

    def add_arguments(self, parser):
        parser.add_argument("backend", help="the backend's name")

    def handle(self, *args, backend, **options):
        found = Backend.objects.filter(name=backend, kind__in=PUSHED_KINDS).first()
        if found is None:
            raise CommandError(f"no push backend named {backend!r}")
        token = crypto.new_key()
        found.push_token_hash = crypto.key_hash(token)
        found.save(update_fields=["push_token_hash"])
        self.stdout.write(token)

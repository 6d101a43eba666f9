import time

from django.core.management.base import BaseCommand, CommandError

from instances import sync
from instances.models import Backend


class Command(BaseCommand):
    help = "Poll backends in this process, without Celery (for debugging)."

    def add_arguments(self, parser):
        parser.add_argument("backends", nargs="*", help="backend names or ids (default: all)")
        parser.add_argument("--once", action="store_true", help="poll once and exit")

    def handle(self, *args, backends, once, **options):
        chosen = Backend.objects.filter(enabled=True)
        if backends:
            ids = [b for b in backends if b.isdigit()]
            chosen = Backend.objects.filter(pk__in=ids) | Backend.objects.filter(name__in=backends)
            missing = set(backends) - {str(b.pk) for b in chosen} - {b.name for b in chosen}
            if missing:
                raise CommandError(f"no such backend: {', '.join(sorted(missing))}")
        while True:
            for backend in chosen:
                poll = sync.poll_backend(backend.pk)
                if poll is None:
                    self.stdout.write(f"{backend.name}: claimed by another worker")
                else:
                    self.stdout.write(
                        f"{backend.name}: {poll.outcome} fetched={poll.fetched} "
                        f"created={poll.created} changed={poll.changed} skipped={poll.skipped} "
                        f"{poll.latency_ms} ms {poll.error}"
                    )
            if once:
                return
            time.sleep(min(b.poll_interval for b in chosen) if chosen else 30)

"""The demo's emulator restarted: its world starts again, and the runs that were in flight in
the old one are no longer listed anywhere. Within 2 polls of every backend, each of them is
marked gone; none stays "running" for ever."""

from datetime import UTC, datetime, timedelta

import pytest

from instances import sync
from instances.emulator.runner import free_port, run_emulator
from instances.management.commands.demo_setup import demo_backends
from instances.models import Backend, Instance
from instances.status import UNFINISHED

pytestmark = pytest.mark.django_db


def poll_every_backend() -> None:
    for backend in Backend.objects.all():
        Backend.objects.filter(pk=backend.pk).update(claimed_until=None)
        assert sync.poll_backend(backend.pk).outcome == "ok", backend.kind


def test_runs_in_flight_before_a_restart_are_gone_within_two_polls():
    port, started = free_port(), datetime.now(UTC).replace(microsecond=0)
    with run_emulator(port=port, seed=1, speed=10, epoch=started) as emulator:
        for backend, secrets in demo_backends():
            backend.base_url, backend.credentials = emulator.base_url, secrets
            backend.save()
        poll_every_backend()
    in_flight = Instance.objects.roots().filter(status__in=UNFINISHED)
    before = set(in_flight.values_list("pk", flat=True))
    assert len(before) >= 10 and len({run.backend.kind for run in in_flight}) == 6
    later = started + timedelta(minutes=37, seconds=13)  # a restart: ticks fall elsewhere
    with run_emulator(port=port, seed=1, speed=10, epoch=later):
        poll_every_backend()
        second = datetime.now(UTC)
        poll_every_backend()
    ghosts = in_flight.filter(pk__in=before, gone_at__isnull=True, last_seen__lt=second)
    assert list(ghosts.values_list("backend__kind", "external_id")) == []
    gone = in_flight.filter(pk__in=before, gone_at__isnull=False).first()
    assert gone is not None


def test_a_gone_run_says_so_in_the_run_list(admin_client):
    from django.utils import timezone

    from tests.factories import InstanceFactory

    InstanceFactory(name="ghost of a restart", status="RUNNING", gone_at=timezone.now())
    page = admin_client.get("/runs/?window=all").content.decode()
    assert "ghost of a restart" in page and "⌀ gone" in page

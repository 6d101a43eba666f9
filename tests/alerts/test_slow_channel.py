"""One team's slow channel never stops anyone's monitoring. As shipped (a poll worker, the
alert deliverer, beat): a channel that answers one byte every 5 s with 20 messages waiting,
and every backend of both teams is still polled within 2 intervals, all along."""

import time

import pytest
from django.utils import timezone

from instances.emulator.runner import run_emulator
from instances.models import Backend
from instances.vendors.ocp import demo as ocp_demo
from tests.alerts.receivers import tarpit
from tests.alerts.waiting import waiting_messages
from tests.factories import GroupFactory
from tests.processes import celery, database_env, deliverer, wait_for, worker

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]
INTERVAL = 4  # seconds between polls
WATCH = 40  # seconds of watching, past two 15 s send deadlines


def test_a_tarpit_channel_holds_no_poll(tmp_path):
    with run_emulator(seed=5, speed=0, vendors=("ocp",)) as emu, tarpit(every=5) as pit:
        teams = [GroupFactory(name="slow team"), GroupFactory(name="other team")]
        backends = [ocp_backend(emu, team, n) for team in teams for n in range(2)]
        # each message alone (no digest): 20 sends wait their turn behind the tarpit
        waiting_messages(teams[0], pit.url, 20, group_seconds=0)
        env = database_env() | {"RUNBOARD_BEAT_SECONDS": "0.5"}
        beat = ("beat", tmp_path / "beat.log", env, f"--schedule={tmp_path / 's'}")
        with (
            worker(tmp_path / "worker.log", env, concurrency=2),
            deliverer(tmp_path / "deliverer.log", env),
            celery(*beat),
        ):
            healthy = Backend.objects.filter(pk__in=[b.pk for b in backends])
            wait_for(
                lambda: not healthy.filter(last_success_at__isnull=True).exists(),
                60,
                "a first poll of every backend",
            )
            wait_for(lambda: pit.connections >= 1, 30, "the deliverer to reach the tarpit")
            oldest, end = 0.0, time.monotonic() + WATCH
            while time.monotonic() < end:
                now = timezone.now()
                ages = [(now - b.last_success_at).total_seconds() for b in healthy.all()]
                oldest = max(oldest, *ages)
                time.sleep(0.5)
        assert oldest <= 2 * INTERVAL, f"a backend went {oldest:.1f} s without a poll"
        assert pit.connections >= 2  # each send ended at its deadline, then the next began
        assert pit.most_in_flight == 1  # one channel, one send at a time


def ocp_backend(emu, team, n: int) -> Backend:
    backend = Backend(
        name=f"OCP {team.name} {n}",
        kind="ocp",
        base_url=emu.base_url,
        team=team,
        poll_interval=INTERVAL,
    )
    backend.credentials = {"username": ocp_demo.USER, "password": ocp_demo.PASSWORD}
    backend.save()
    return backend

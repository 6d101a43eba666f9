"""Which finished runs a poll reads again by id: a bounded number, least recently seen first,
the last hour's runs and the week's failures sharing the budget."""

from datetime import timedelta

import pytest
from django.utils import timezone

from instances import known
from instances.models import Status
from tests.factories import BackendFactory, InstanceFactory

pytestmark = pytest.mark.django_db


def test_a_week_of_failures_does_not_starve_the_last_hours_runs():
    backend = BackendFactory()
    now = timezone.now()
    for n in range(50):  # failures of the week, seen long ago
        at = now - timedelta(days=1, minutes=n)
        InstanceFactory(backend=backend, status=Status.FAILED, run_at=at, last_seen=at)
    recent = [
        InstanceFactory(
            backend=backend,
            run_at=now - timedelta(minutes=n + 5),
            last_seen=now - timedelta(minutes=n + 1),
        ).external_id
        for n in range(3)
    ]
    again = known.to_read_again(backend, now, 20)
    assert len(again) == 20 and set(recent) <= set(again)
    failures = [ext for ext in again if ext not in recent]
    assert len(failures) == 17  # the week's failures take the rest, oldest seen first


def test_unfinished_runs_are_read_again_besides_the_finished_budget():
    backend = BackendFactory()
    now = timezone.now()
    earlier = now - timedelta(minutes=10)
    running = InstanceFactory(backend=backend, status=Status.RUNNING, last_seen=earlier)
    ended = InstanceFactory(backend=backend, run_at=earlier, last_seen=earlier)
    seen_now = InstanceFactory(backend=backend, run_at=earlier, last_seen=now)  # in this list
    again = known.to_read_again(backend, now, 1)
    assert again == [running.external_id, ended.external_id]
    assert seen_now.external_id not in again

"""A poll's claim on its backend follows the backend's interval: a worker killed mid-poll
frees a backend polled every 10 s within 15 s, so it is polled again within 2 intervals,
and a slow backend's claim still never outlives RUNBOARD_CLAIM_SECONDS."""

from datetime import timedelta

import pytest
from django.utils import timezone

from instances import scheduling
from tests.factories import BackendFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("interval", "claim"), [(2, 10), (10, 15), (15, 22.5), (300, 30)])
def test_a_claim_lasts_one_and_a_half_intervals_within_bounds(interval, claim, settings):
    backend = BackendFactory(poll_interval=interval)
    assert settings.RUNBOARD_CLAIM_SECONDS == 30
    assert scheduling.claim_ttl(backend.pk) == timedelta(seconds=claim)


def test_a_dead_workers_claim_expires_by_its_own_length():
    backend = BackendFactory(poll_interval=10)
    now, ttl = timezone.now(), scheduling.claim_ttl(backend.pk)
    assert scheduling.claim(backend.pk, now, ttl)
    assert not scheduling.claim(backend.pk, now + ttl - timedelta(seconds=1), ttl)
    assert scheduling.claim(backend.pk, now + ttl + timedelta(seconds=1), ttl)

"""A channel's rate limit holds under concurrent senders: two deliverers sweeping at once
never send a channel more than max_per_minute messages in a minute (they could send 21 of
20 when both read the count before either sent), as a sweep leases the channel itself."""

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from instances.alerts import delivery
from instances.alerts.models import Delivery
from tests.alerts.receivers import http_receiver
from tests.alerts.waiting import waiting_messages
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_sweeps_at_once_never_exceed_a_channels_rate():
    team = GroupFactory()
    with http_receiver() as web:
        # each message alone (no digest): the rate, not grouping, is what holds them back
        waiting_messages(team, f"{web.url}/hook", 30, max_per_minute=20, group_seconds=0)
        now = timezone.now()

        def sweep():  # as beat's sweeps would, again and again, until nothing is due now
            # a deadline, not a count of sweeps: a sweep that finds the other holding the
            # channel sends nothing, and on a busy machine most of one's sweeps may do so
            try:
                due = Delivery.objects.filter(state="pending", next_attempt_at__lte=now)
                deadline = time.monotonic() + 60
                while due.exists() and time.monotonic() < deadline:
                    delivery.deliver_due()
            finally:
                connection.close()

        sweepers = [threading.Thread(target=sweep) for _ in range(2)]
        for sweeper in sweepers:
            sweeper.start()
        for sweeper in sweepers:
            sweeper.join(timeout=120)
        assert len(web.received) == 20  # all within the same minute: exactly the rate
    assert Delivery.objects.filter(state="sent").count() == 20
    held = Delivery.objects.filter(state="pending")
    assert held.count() == 10 and all(d.next_attempt_at > now for d in held)

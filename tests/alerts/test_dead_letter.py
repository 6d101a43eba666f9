"""A message a channel never takes is not retried forever: past its channel's count or age it
is given up (dead), shown on the channel's page and in the top bar, exposed in /metrics, and
no request goes out for it again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from instances.alerts import delivery
from instances.alerts.models import Channel, Delivery
from instances.models import Status
from tests.alerts.test_lifecycle import poll, rule_for, vendor_run
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing_hook(backend, receivers, settings):
    web, _ = receivers
    settings.RUNBOARD_ALERT_RETRY_MAX_SECONDS = 0  # retry at once: the test moves no clock
    rule_for(backend, web)
    Channel.objects.filter(kind="webhook").update(give_up_after_attempts=3)
    web.status = 503
    vendor_run("1", Status.FAILED)
    poll(backend)
    return web


def test_after_its_attempts_a_message_is_dead_and_never_sent_again(failing_hook):
    for _ in range(3):
        delivery.deliver_due()
    dead = Delivery.objects.get(channel__kind="webhook")
    assert dead.state == Delivery.State.DEAD and dead.attempts == 3
    assert len(failing_hook.received) == 3
    for _ in range(3):
        delivery.deliver_due()
    assert len(failing_hook.received) == 3  # nothing more goes out


def test_a_message_older_than_its_channels_age_is_given_up_unsent(backend, receivers):
    web, _ = receivers
    rule_for(backend, web)
    vendor_run("1", Status.FAILED)
    poll(backend)
    Delivery.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert delivery.deliver_due() == 0
    assert web.received == [] and set(Delivery.objects.values_list("state", flat=True)) == {"dead"}


def test_a_dead_message_shows_on_the_page_top_bar_and_metrics(failing_hook, backend, client):
    for _ in range(3):
        delivery.deliver_due()
    member = UserFactory(teams=[backend.team])  # a team member, not staff
    client.force_login(member)
    page = client.get("/alerts/channels/").content.decode()
    assert "given up" in page and "✖ failing" in page
    assert "HTTP 503" in page and "1 channel failing" in page
    metrics = client.get("/metrics").content.decode()
    assert 'runboard_alert_deliveries{channel="ops hook",state="dead"} 1.0' in metrics
    assert 'runboard_alert_channel_failing{channel="ops hook"} 1.0' in metrics
    assert 'runboard_alert_channel_failing{channel="ops mail"} 0.0' in metrics

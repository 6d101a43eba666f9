"""Messages waiting on one channel, as firing alerts leave them (shared by the tests of what a
channel does with a backlog)."""

from django.utils import timezone

from instances.alerts import delivery
from instances.alerts.models import Alert, AlertRule, Channel, Delivery


def waiting_messages(team, target: str, count: int, **channel_fields) -> Channel:
    """A webhook channel of the team with `count` alerts' FIRING messages due now."""
    channel = Channel(team=team, name="hook", kind=Channel.Kind.WEBHOOK, **channel_fields)
    channel.target = target
    channel.save()
    rule = AlertRule.objects.create(team=team, name="failures", kind="failed")
    now = timezone.now()
    for n in range(count):
        alert = Alert.objects.create(
            rule=rule, key=f"k{n}", title=f"alert {n}", opened_at=now, updated_at=now
        )
        Delivery.objects.create(
            alert=alert,
            channel=channel,
            event="fired",
            message=delivery.message(alert, "fired"),
            next_attempt_at=now,
            created_at=now,
        )
    return channel

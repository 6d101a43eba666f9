"""What is told after an alert opened: one opened in a silence that still fires when the
silence ends, and one still firing unacknowledged when its rule's repeat interval is up."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q

from . import delivery
from .lifecycle import tell
from .models import Alert, AlertEvent, AlertRule

BATCH = 200  # alerts told a check at most; the rest the next check


def tell_later(now: datetime) -> None:
    tell_unsilenced(Alert.objects.all(), now)
    for rule in AlertRule.objects.filter(enabled=True, repeat_minutes__gt=0):
        due = unheeded(Alert.objects.filter(rule=rule), now).filter(
            told_at__lte=now - timedelta(minutes=rule.repeat_minutes)
        )
        for alert in due.select_for_update(skip_locked=True)[:BATCH]:
            remind(alert, now)


def unheeded(alerts, now: datetime):
    """Firing, neither acknowledged nor silenced."""
    return alerts.filter(state=Alert.State.FIRING, acknowledged_at__isnull=True).filter(
        Q(silenced_until__isnull=True) | Q(silenced_until__lte=now)
    )


def tell_unsilenced(alerts, now: datetime) -> None:
    """Tell the channels of those alerts that opened in a silence, still fire, and are out of
    it now (at most BATCH; the rest the next check)."""
    untold = unheeded(alerts, now).filter(told_at__isnull=True)
    for alert in untold.select_for_update(skip_locked=True)[:BATCH]:
        AlertEvent.objects.create(alert=alert, at=now, what=AlertEvent.What.TOLD)
        tell(alert, now)


def remind(alert: Alert, now: datetime) -> None:
    alert.reminders += 1
    alert.told_at = now
    alert.save(update_fields=["reminders", "told_at"])
    AlertEvent.objects.create(
        alert=alert, at=now, what=AlertEvent.What.REMINDED, note=f"reminder {alert.reminders}"
    )
    delivery.queue(alert, f"reminder {alert.reminders}", now)

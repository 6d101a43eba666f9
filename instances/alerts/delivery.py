"""Messages out: queued as Delivery rows in the transaction that fired (or resolved) the
alert, sent by Celery after it commits and by beat's sweep, retried with backoff while a
channel is down, held back (never dropped) past a channel's rate limit."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .channels import send
from .models import Alert, Delivery

log = logging.getLogger(__name__)

DELIVER_TASK = "instances.deliver_alerts"

BATCH = 50  # deliveries taken per sweep
LEASE = timedelta(minutes=2)  # a delivery being sent is not taken again before this


def message(alert: Alert, event: str) -> dict:
    """What every channel says of the alert, fixed when queued."""
    link = ""
    if alert.run_id:
        link = f"{settings.RUNBOARD_BASE_URL}{reverse('run_detail', args=[alert.run_id])}#failing"
    state = "RESOLVED" if event == "resolved" else "FIRING"
    facts = [
        ("Rule", alert.rule.name),
        ("Backend", alert.backend.name if alert.backend else ""),
        ("Definition", alert.definition_id),
        ("Failing step", alert.culprit),
        ("Error", alert.error_line),
        ("Signature", alert.signature),
        (
            "Streak",
            f"{alert.streak} failure{'s' if alert.streak != 1 else ''} in a row"
            if alert.rule.kind == "failed"
            else "",
        ),
        ("Run", link),
        (
            "Acknowledge or silence",
            f"{settings.RUNBOARD_BASE_URL}{reverse('alert_detail', args=[alert.pk])}",
        ),
    ]
    return {
        "event": event,
        "alert_id": alert.pk,
        "state": state,
        "title": f"[{state}] {alert.title}",
        "facts": [[name, value] for name, value in facts if value],
        "url": link,
        "rule_kind": alert.rule.kind,
        "definition_id": alert.definition_id,
        "signature": alert.signature,
        "streak": alert.streak,
        "opened_at": alert.opened_at.isoformat(),
        "resolved_at": alert.resolved_at and alert.resolved_at.isoformat(),
    }


def queue(alert: Alert, event: str, now: datetime) -> None:
    """One Delivery per enabled channel of the alert's rule; sent once the caller commits."""
    body = message(alert, event)
    rows = [
        Delivery(
            alert=alert,
            channel=channel,
            event=event,
            message=body,
            next_attempt_at=now,
            created_at=now,
        )
        for channel in alert.rule.channels.filter(enabled=True)
    ]
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)  # one message per event
    if rows:
        transaction.on_commit(kick)


def kick() -> None:
    try:  # by name: the tasks module sits above alerting and imports it
        current_app.send_task(DELIVER_TASK)
    except Exception as exc:  # the broker is down: beat's sweep sends them
        log.warning("alert delivery not queued (beat will send it): %s", exc)


def backoff(attempts: int) -> timedelta:
    """2, 4, 8 … seconds, at most RUNBOARD_ALERT_RETRY_MAX_SECONDS: a channel back up hears
    everything soon after."""
    return timedelta(seconds=min(2**attempts, settings.RUNBOARD_ALERT_RETRY_MAX_SECONDS))


def take_due(now: datetime) -> list[Delivery]:
    """Due deliveries, oldest first, leased to this sweep (two sweeps never send one twice)."""
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state=Delivery.State.PENDING, next_attempt_at__lte=now)
            .select_related("channel")
            .order_by("created_at", "id")[:BATCH]
        )
        Delivery.objects.filter(pk__in=[d.pk for d in due]).update(next_attempt_at=now + LEASE)
    return due


def within_rate(delivery: Delivery, now: datetime) -> datetime | None:
    """None when the channel may send now, else when it may."""
    recent = [
        at
        for at in Delivery.objects.filter(
            channel=delivery.channel,
            state=Delivery.State.SENT,
            sent_at__gt=now - timedelta(minutes=1),
        )
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        if at is not None
    ]
    if len(recent) < delivery.channel.max_per_minute:
        return None
    return recent[0] + timedelta(minutes=1)


def deliver_due(sweeps: int = 20) -> int:
    """Send what is due now, a batch at a time (what fails is due again later, not in this
    call); returns how many went through."""
    sent, started = 0, timezone.now()
    for _ in range(sweeps):
        due = take_due(started)
        if not due:
            break
        sent += sum(deliver(delivery) for delivery in due)
    return sent


def deliver(delivery: Delivery) -> bool:
    """Send one leased delivery; whether it went through."""
    if (later := within_rate(delivery, timezone.now())) is not None:
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=later)
        return False
    outcome = send(delivery.channel, delivery.message, f"runboard-{delivery.pk}")
    delivery.attempts += 1
    delivery.response_code, delivery.error = outcome.code, outcome.error[:500]
    if outcome.ok:
        delivery.state, delivery.sent_at = Delivery.State.SENT, timezone.now()
    else:
        delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
        log.warning(
            "alert %s to %s failed (attempt %s): %s",
            delivery.alert_id,
            delivery.channel.name,
            delivery.attempts,
            outcome.error,
        )
    delivery.save(
        update_fields=["attempts", "response_code", "error", "state", "sent_at", "next_attempt_at"]
    )
    return outcome.ok

"""Messages out: queued as Delivery rows in the transaction that fired (or resolved) the
alert, sent by Celery after it commits and by beat's sweep, retried with backoff while a
channel is down, held back (never dropped) past a channel's rate limit."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .channels import send
from .models import Alert, Channel, Delivery

log = logging.getLogger(__name__)

DELIVER_TASK = "instances.deliver_alerts"

BATCH = 50  # channels served per sweep, a message each
# A delivery (and its channel) being sent is not taken again before this: longer than any
# send may last (RUNBOARD_ALERT_SEND_SECONDS), short enough that a dead worker holds little.
LEASE = timedelta(seconds=settings.RUNBOARD_ALERT_SEND_SECONDS + 15)
SWEEP_BUDGET = timedelta(seconds=60)  # one task sends for about this long, then beat goes on


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
    """At most one due delivery per channel, the oldest, each leased with its channel: two
    sweeps never send one message twice, and one channel never has two sends in flight, so a
    slow channel holds one sender at most."""
    channels = list(
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now)
        .values_list("channel_id", flat=True)
        .distinct()[:BATCH]
    )
    taken = []
    for channel_id in channels:
        if not claim_channel(channel_id):
            continue
        with transaction.atomic():
            due = (
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(
                    channel_id=channel_id, state=Delivery.State.PENDING, next_attempt_at__lte=now
                )
                .select_related("channel")
                .order_by("created_at", "id")
                .first()
            )
            if due is not None:
                lease = timezone.now() + LEASE
                Delivery.objects.filter(pk=due.pk).update(next_attempt_at=lease)
                taken.append(due)
        if due is None:
            release_channel(channel_id)
    return taken


def claim_channel(channel_id: int) -> bool:
    now = timezone.now()
    free = Q(sending_until__isnull=True) | Q(sending_until__lt=now)
    return bool(Channel.objects.filter(free, pk=channel_id).update(sending_until=now + LEASE))


def release_channel(channel_id: int) -> None:
    Channel.objects.filter(pk=channel_id).update(sending_until=None)


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
    """Send what is due now, a message per channel a sweep (what fails is due again later,
    not in this call), for at most SWEEP_BUDGET; returns how many went through."""
    sent, started, clock = 0, timezone.now(), time.monotonic()
    for _ in range(sweeps):
        due = take_due(started)
        if not due:
            break
        sent += sum(deliver(delivery) for delivery in due)
        if time.monotonic() - clock > SWEEP_BUDGET.total_seconds():
            break  # beat's next sweep goes on
    return sent


def deliver(delivery: Delivery) -> bool:
    """Send one leased delivery, then free its channel; whether it went through."""
    try:
        return attempt(delivery)
    finally:
        release_channel(delivery.channel_id)


def attempt(delivery: Delivery) -> bool:
    now, channel = timezone.now(), delivery.channel
    if delivery.created_at < now - timedelta(hours=channel.give_up_after_hours):
        give_up(delivery, f"not taken within {channel.give_up_after_hours} h")
        return False
    if (later := within_rate(delivery, now)) is not None:
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=later)
        return False
    outcome = send(channel, delivery.message, f"runboard-{delivery.pk}")
    delivery.attempts += 1
    delivery.response_code, delivery.error = outcome.code, outcome.error[:500]
    if outcome.ok:
        delivery.state, delivery.sent_at = Delivery.State.SENT, timezone.now()
    elif channel.give_up_after_attempts and delivery.attempts >= channel.give_up_after_attempts:
        delivery.state = Delivery.State.DEAD
        log.error(
            "alert %s to %s given up after %s attempts: %s",
            delivery.alert_id,
            channel.name,
            delivery.attempts,
            outcome.error,
        )
    else:
        delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
        log.warning(
            "alert %s to %s failed (attempt %s): %s",
            delivery.alert_id,
            channel.name,
            delivery.attempts,
            outcome.error,
        )
    delivery.save(
        update_fields=["attempts", "response_code", "error", "state", "sent_at", "next_attempt_at"]
    )
    return outcome.ok


def give_up(delivery: Delivery, why: str) -> None:
    """A message the channel never took: kept, shown as given up, never sent again."""
    log.error("alert %s to %s given up: %s", delivery.alert_id, delivery.channel.name, why)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=Delivery.State.DEAD, error=f"given up: {why}"[:500]
    )

"""Messages out: queued as Delivery rows in the transaction that fired (or resolved) the
alert, sent by Celery after it commits and by beat's sweep, retried with backoff while a
channel is down, held back (never dropped) past a channel's rate limit."""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .channels import send
from .models import Alert, Channel, Delivery

log = logging.getLogger(__name__)

DELIVER_TASK = "instances.deliver_alerts"

BATCH = 50  # channels served per sweep, a message each
DIGEST_MOST = 100  # alerts one digest names; more go in the next
# A delivery (and its channel) being sent is not taken again before this: longer than any
# send may last (RUNBOARD_ALERT_SEND_SECONDS), short enough that a dead worker holds little.
LEASE = timedelta(seconds=settings.RUNBOARD_ALERT_SEND_SECONDS + 15)
SWEEP_BUDGET = timedelta(seconds=60)  # one task sends for about this long, then beat goes on


def message(alert: Alert, event: str) -> dict:
    """What a channel says of the alert, in the active language, fixed when queued. "state"
    and the other keys stay as they are in every language: receivers read them."""
    link = ""
    if alert.run_id:
        link = f"{settings.RUNBOARD_BASE_URL}{reverse('run_detail', args=[alert.run_id])}#failing"
    state = "RESOLVED" if event == "resolved" else "FIRING"
    told = {"RESOLVED": _("RESOLVED"), "FIRING": _("FIRING")}[state]
    if event.startswith("reminder"):
        told = _("STILL FIRING")
    alert_link = f"{settings.RUNBOARD_BASE_URL}{reverse('alert_detail', args=[alert.pk])}"
    facts = [
        (_("Rule"), alert.rule.name),
        (_("Backend"), alert.backend.name if alert.backend else ""),
        (_("Definition"), alert.definition_id),
        (_("Failing step"), alert.culprit),
        (_("Error"), alert.error_line),
        (_("Signature"), alert.signature),
        (
            _("Streak"),
            ngettext("{count} failure in a row", "{count} failures in a row", alert.streak).format(
                count=alert.streak
            )
            if alert.rule.kind == "failed"
            else "",
        ),
        (_("Run"), link),
        (_("Acknowledge or silence"), alert_link),
    ]
    return {
        "event": event,
        "alert_id": alert.pk,
        "state": state,
        "language": translation.get_language(),
        "title": f"[{told}] {alert.headline}",
        "facts": [[name, value] for name, value in facts if value],
        "url": link,
        "alert_url": alert_link,
        "rule_kind": alert.rule.kind,
        "definition_id": alert.definition_id,
        "signature": alert.signature,
        "streak": alert.streak,
        "opened_at": alert.opened_at.isoformat(),
        "resolved_at": alert.resolved_at and alert.resolved_at.isoformat(),
    }


def digest(messages: list[dict]) -> dict:
    """Messages due together on one channel, sent as one that names every alert, each with
    its own link; a webhook receiver gets each message whole under "messages"."""
    counts = Counter(message["state"] for message in messages)
    said = {"RESOLVED": _("RESOLVED"), "FIRING": _("FIRING")}
    states = ", ".join(f"{count} {said[state]}" for state, count in counts.items())
    alerts = ngettext("{count} alert", "{count} alerts", len(messages)).format(count=len(messages))
    return {
        "event": "digest",
        "state": "FIRING" if counts["FIRING"] else "RESOLVED",
        "title": f"[{states}] {alerts}",
        "facts": [
            [message["title"], message["url"] or message.get("alert_url", "")]
            for message in messages
        ],
        "url": "",
        "messages": messages,
    }


def queue(alert: Alert, event: str, now: datetime) -> None:
    """One Delivery per enabled channel of the alert's rule, in the channel's language; sent
    once the caller commits."""
    channels = list(alert.rule.channels.filter(enabled=True))
    bodies = {}
    for language in {channel.language for channel in channels}:
        with translation.override(language):
            bodies[language] = message(alert, event)
    rows = [
        Delivery(
            alert=alert,
            channel=channel,
            event=event,
            message=bodies[channel.language],
            next_attempt_at=now,
            created_at=now,
        )
        for channel in channels
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


def take_due(now: datetime) -> list[list[Delivery]]:
    """Due messages, at most one group per channel, each leased with its channel: two sweeps
    never send one message twice, and one channel never has two sends in flight, so a slow
    channel holds one sender at most."""
    channels = list(
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now)
        .values_list("channel_id", flat=True)
        .distinct()[:BATCH]
    )
    taken = []
    for channel_id in channels:
        if not claim_channel(channel_id):
            continue
        if group := take_group(channel_id, now):
            taken.append(group)
        else:
            release_channel(channel_id)
    return taken


def take_group(channel_id: int, now: datetime) -> list[Delivery]:
    """The channel's due messages that go now, as one: the first after a quiet spell goes at
    once; what comes within the channel's group window after a message waits for the window
    to end and then goes together (Alertmanager's group_interval). A window of 0: one by one."""
    channel = Channel.objects.get(pk=channel_id)
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(channel=channel, state=Delivery.State.PENDING, next_attempt_at__lte=now)
            .order_by("created_at", "id")[: DIGEST_MOST if channel.group_seconds else 1]
        )
        if not due:
            return []
        held = [delivery.pk for delivery in due]
        window_ends = channel.group_seconds and group_window_end(channel)
        if window_ends and window_ends > timezone.now():
            Delivery.objects.filter(pk__in=held).update(next_attempt_at=window_ends)
            return []
        Delivery.objects.filter(pk__in=held).update(next_attempt_at=timezone.now() + LEASE)
        for delivery in due:
            delivery.channel = channel
        return due


def group_window_end(channel: Channel) -> datetime | None:
    last = last_messages(channel).order_by("-sent_at").values_list("sent_at", flat=True).first()
    return last + timedelta(seconds=channel.group_seconds) if last else None


def last_messages(channel: Channel):
    """Messages the channel took: a digest once, not once for each alert it named."""
    return Delivery.objects.filter(
        channel=channel, state=Delivery.State.SENT, sent_with__isnull=True
    )


def claim_channel(channel_id: int) -> bool:
    now = timezone.now()
    free = Q(sending_until__isnull=True) | Q(sending_until__lt=now)
    return bool(Channel.objects.filter(free, pk=channel_id).update(sending_until=now + LEASE))


def release_channel(channel_id: int) -> None:
    Channel.objects.filter(pk=channel_id).update(sending_until=None)


def within_rate(channel: Channel, now: datetime) -> datetime | None:
    """None when the channel may send now, else when it may."""
    recent = list(
        last_messages(channel)
        .filter(sent_at__gt=now - timedelta(minutes=1))
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
    )
    if len(recent) < channel.max_per_minute:
        return None
    return recent[0] + timedelta(minutes=1)


def deliver_due(sweeps: int = 20) -> int:
    """Send what is due now, a message per channel a sweep (what fails is due again later,
    not in this call), for at most SWEEP_BUDGET; returns how many alerts' messages went
    through (a digest counts each alert it names)."""
    sent, started, clock = 0, timezone.now(), time.monotonic()
    for _sweep in range(sweeps):
        due = take_due(started)
        if not due:
            break
        sent += sum(deliver(group) for group in due)
        if time.monotonic() - clock > SWEEP_BUDGET.total_seconds():
            break  # beat's next sweep goes on
    return sent


def deliver(group: list[Delivery]) -> int:
    """Send one channel's leased group, then free the channel; how many went through."""
    try:
        return attempt(group)
    finally:
        release_channel(group[0].channel_id)


def attempt(group: list[Delivery]) -> int:
    now, channel = timezone.now(), group[0].channel
    oldest = now - timedelta(hours=channel.give_up_after_hours)
    for old in [delivery for delivery in group if delivery.created_at < oldest]:
        give_up(old, f"not taken within {channel.give_up_after_hours} h")
    if not (group := [delivery for delivery in group if delivery.created_at >= oldest]):
        return 0
    if (later := within_rate(channel, now)) is not None:
        Delivery.objects.filter(pk__in=[d.pk for d in group]).update(next_attempt_at=later)
        return 0
    lead = group[0]
    if len(group) == 1:
        outcome = send(channel, lead.message, f"runboard-{lead.pk}")
    else:  # the id names the group, so a receiver's de-duplication never drops a larger one
        message_id = f"runboard-{lead.pk}-{group[-1].pk}-{len(group)}"
        with translation.override(channel.language):
            outcome = send(channel, digest([d.message for d in group]), message_id)
    sent_at = timezone.now()
    for delivery in group:
        delivery.attempts += 1
        delivery.response_code, delivery.error = outcome.code, outcome.error[:500]
        if outcome.ok:
            delivery.state, delivery.sent_at = Delivery.State.SENT, sent_at
            delivery.sent_with = None if delivery is lead else lead
        elif channel.give_up_after_attempts and delivery.attempts >= channel.give_up_after_attempts:
            delivery.state = Delivery.State.DEAD
        else:
            delivery.next_attempt_at = sent_at + backoff(delivery.attempts)
    if not outcome.ok:
        dead = lead.state == Delivery.State.DEAD
        log.log(
            logging.ERROR if dead else logging.WARNING,
            "%s alert message(s) to %s %s (attempt %s): %s",
            len(group),
            channel.name,
            "given up" if dead else "failed",
            lead.attempts,
            outcome.error,
        )
    Delivery.objects.bulk_update(
        group,
        ["attempts", "response_code", "error", "state", "sent_at", "next_attempt_at", "sent_with"],
    )
    return len(group) if outcome.ok else 0


def give_up(delivery: Delivery, why: str) -> None:
    """A message the channel never took: kept, shown as given up, never sent again."""
    log.error("alert %s to %s given up: %s", delivery.alert_id, delivery.channel.name, why)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=Delivery.State.DEAD, error=f"given up: {why}"[:500]
    )

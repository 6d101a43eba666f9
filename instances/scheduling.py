"""When a backend is polled, and by whom: beat reserves due backends, a poll claims its
backend (a conditional UPDATE with an expiry, renewed by a heartbeat), and finishing records
the poll's outcome and the backend's health, backing off a failing vendor alone."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from .connectors.base import ConnectorError, RateLimited
from .models import Backend, Poll, storable
from .registry import PUSHED_KINDS

log = logging.getLogger(__name__)

BACKOFF_CAP = timedelta(minutes=30)
# A live poll renews its claim every third of its length (a heartbeat); a killed worker's
# claim expires by itself that long after its last beat: 1.5 poll intervals, at least
# MIN_CLAIM, at most CLAIM_TTL, so a backend polled often is polled again within 2 intervals.
CLAIM_TTL = timedelta(seconds=settings.RUNBOARD_CLAIM_SECONDS)
MIN_CLAIM = timedelta(seconds=10)


def claim_ttl(backend_id: int) -> timedelta:
    interval = Backend.objects.filter(pk=backend_id).values_list("poll_interval", flat=True)
    follows_interval = timedelta(seconds=1.5 * (interval.first() or 0))
    return min(CLAIM_TTL, max(MIN_CLAIM, follows_interval))


def claim(backend_id: int, now: datetime, ttl: timedelta = CLAIM_TTL) -> bool:
    """Take the backend for one poll; False when another worker holds an unexpired claim."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    return bool(Backend.objects.filter(free, pk=backend_id).update(claimed_until=now + ttl))


def release(backend_id: int) -> None:
    Backend.objects.filter(pk=backend_id).update(claimed_until=None)


@contextmanager
def heartbeat(backend_id: int, ttl: timedelta) -> Iterator[None]:
    """Renew the claim while the poll lives, from a thread of its own: however long a poll
    takes it keeps its backend, and a worker that dies frees it within `ttl`."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(ttl.total_seconds() / 3):
                try:
                    Backend.objects.filter(pk=backend_id).update(claimed_until=timezone.now() + ttl)
                except DatabaseError as exc:  # a missed beat; the next one may land
                    log.warning("heartbeat of backend %s missed: %s", backend_id, exc)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-{backend_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def close_abandoned(backend_id: int, now: datetime) -> None:
    """Polls of this backend still 'running' when a new one holds the claim died with their
    worker: close them, so none stays running forever."""
    Poll.objects.filter(backend_id=backend_id, outcome=Poll.Outcome.RUNNING).update(
        outcome=Poll.Outcome.ABANDONED,
        finished_at=now,
        error="abandoned: its worker stopped before the poll ended",
    )


def with_jitter(interval: timedelta) -> timedelta:
    """Spread backends over time so their polls don't align."""
    return interval * random.uniform(1.0, 1.1)


def reserve_due_backends(now: datetime) -> list[int]:
    """Backends whose next poll is due, each reserved (next_poll_at moved on) with a
    conditional update, so two beats never enqueue the same poll twice."""
    due = (
        Backend.objects.filter(enabled=True)
        .exclude(kind__in=PUSHED_KINDS)  # they tell Runboard themselves
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
    )
    reserved = []
    for backend_id, next_poll_at, interval in due.values_list(
        "pk", "next_poll_at", "poll_interval"
    ):
        moved = Backend.objects.filter(pk=backend_id, next_poll_at=next_poll_at).update(
            next_poll_at=now + with_jitter(timedelta(seconds=interval))
        )
        if moved:
            reserved.append(backend_id)
    return reserved


def finish(backend: Backend, poll: Poll, error: ConnectorError | None, latency_ms: int) -> None:
    now = timezone.now()
    poll.finished_at = now
    poll.latency_ms = latency_ms
    health: dict = {"last_poll_at": now, "last_latency_ms": latency_ms}
    if error is None:
        poll.outcome = Poll.Outcome.PARTIAL if poll.skipped else Poll.Outcome.OK
        health.update(
            last_success_at=now,
            consecutive_failures=0,
            watermark=poll.started_at,
            not_before=None,
            next_poll_at=now + with_jitter(timedelta(seconds=backend.poll_interval)),
        )
    else:
        poll.outcome = Poll.Outcome.ERROR
        poll.error = storable(str(error))[:2000]  # the vendor's words: any characters
        failures = backend.consecutive_failures + 1
        asked = error.retry_after if isinstance(error, RateLimited) else None
        health.update(
            last_error=poll.error,
            last_error_at=now,
            consecutive_failures=failures,
            next_poll_at=now + backoff(backend.poll_interval, failures, error),
            not_before=now + timedelta(seconds=asked) if asked else None,
        )
    poll.save()
    Backend.objects.filter(pk=backend.pk).update(**health)


def backoff(interval: int, failures: int, error: ConnectorError) -> timedelta:
    """Exponential and capped; a vendor's Retry-After wins when it asks for longer."""
    delay = failing_delay(interval, failures)
    if isinstance(error, RateLimited) and error.retry_after:
        delay = max(delay, timedelta(seconds=error.retry_after))
    return with_jitter(delay)


def failing_delay(interval: int, failures: int) -> timedelta:
    return min(timedelta(seconds=interval * 2 ** min(failures, 16)), BACKOFF_CAP)


def next_poll_due(backend: Backend) -> datetime | None:
    """When the backend's next poll is due at the latest, as polls are spaced: an interval
    after its last (its failure backoff while it fails, a vendor's Retry-After if longer),
    jitter included. None before its first poll."""
    if backend.last_poll_at is None:
        return None
    interval = timedelta(seconds=backend.poll_interval)
    if backend.consecutive_failures:
        interval = failing_delay(backend.poll_interval, backend.consecutive_failures)
    due = backend.last_poll_at + interval * 1.1
    return max(due, backend.not_before) if backend.not_before else due

"""One poll, top to bottom: claim the backend, read the vendor page by page, clean each page,
write it, tell the observers, finish. Each step is a module of its own (scheduling, cleaning,
known, writing, observers) and none of them calls back up here.

Sync knows the database and nothing of vendors; connectors know vendors and nothing of the
database. Every page is stored in its own transaction, so a poll that dies keeps what it stored
and the next poll resumes from the same watermark.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from . import cleaning, known, observers, schedules, scheduling, writing
from .connectors.base import Connector, ConnectorError, RunRecord
from .models import Backend, Instance, Poll, Status
from .registry import CONNECTORS

log = logging.getLogger(__name__)

# Re-read runs triggered a little before the last successful poll: vendor clocks drift and
# lists are eventually consistent.
WATERMARK_OVERLAP = timedelta(minutes=10)
# Running runs read again in detail on every poll, per page of the list, so their steps stay
# live; beyond this many a run's steps wait for its own list entry to change.
LIVE_REREADS_PER_PAGE = 50


def connector_for(backend: Backend) -> Connector:
    return CONNECTORS[backend.kind](backend.connector_config())


def poll_backend(backend_id: int) -> Poll | None:
    """Poll one backend if nobody else is; None when the claim is taken."""
    started, ttl = timezone.now(), scheduling.claim_ttl(backend_id)
    if not scheduling.claim(backend_id, started, ttl):
        log.info("backend %s is being polled elsewhere; skipping", backend_id)
        return None
    try:
        scheduling.close_abandoned(backend_id, started)
        backend = Backend.objects.get(pk=backend_id)
        poll = Poll.objects.create(backend=backend, started_at=started)
        clock = time.monotonic()
        error: ConnectorError | None = None
        try:
            with scheduling.heartbeat(backend_id, ttl):
                run_poll(backend, connector_for(backend), poll)
        except ConnectorError as exc:
            error = exc
            log.warning("poll of backend %s (%s) failed: %s", backend.pk, backend.name, exc)
        except Exception as exc:  # a payload no connector check foresaw: still this backend's
            log.exception("poll of backend %s (%s) crashed", backend.pk, backend.name)
            error = ConnectorError(f"unexpected {type(exc).__name__}: {exc}")
        scheduling.finish(backend, poll, error, int((time.monotonic() - clock) * 1000))
        return poll
    finally:
        scheduling.release(backend_id)


def reread(backend_id: int, external_ids: list[str]) -> bool:
    """Read these top-level runs again by id, now, between polls (an action's run, and the run
    it started): stored as a poll stores them, without moving the backend's watermark or
    schedule. False when a poll holds the backend; the caller asks again."""
    started = timezone.now()
    if not scheduling.claim(backend_id, started, scheduling.MIN_CLAIM):
        return False
    try:
        backend = Backend.objects.get(pk=backend_id)
        poll = Poll.objects.create(backend=backend, started_at=started)
        connector = connector_for(backend)
        try:
            store_page(backend, connector, connector.refresh(external_ids), poll)
            poll.outcome = Poll.Outcome.OK
        except ConnectorError as exc:
            log.warning("reread on backend %s failed: %s", backend_id, exc)
            poll.outcome, poll.error = Poll.Outcome.ERROR, str(exc)[:2000]
        poll.finished_at = timezone.now()
        poll.save()
        return True
    finally:
        scheduling.release(backend_id)


def store_pushed(backend: Backend, records: list[RunRecord]) -> Poll:
    """Runs a scheduler pushed (OpenLineage), stored as a poll stores a page, observers and
    all; the backend's health is when it last heard."""
    poll = Poll.objects.create(backend=backend, started_at=timezone.now())
    store_page(backend, connector_for(backend), records, poll)
    poll.outcome, poll.finished_at = Poll.Outcome.OK, timezone.now()
    poll.save()
    Backend.objects.filter(pk=backend.pk).update(
        last_poll_at=poll.finished_at, last_success_at=poll.finished_at, consecutive_failures=0
    )
    return poll


def run_poll(backend: Backend, connector: Connector, poll: Poll) -> None:
    since = backend.watermark - WATERMARK_OVERLAP if backend.watermark else None
    for page in connector.iter_pages(since):
        store_page(backend, connector, page, poll)
    if again := known.to_read_again(backend, poll.started_at, connector.finished_rereads):
        store_page(backend, connector, connector.refresh(again), poll)


def store_page(backend: Backend, connector: Connector, page: list[RunRecord], poll: Poll) -> None:
    """Store one page of top-level records: unchanged ones are only marked seen, changed ones
    are expanded (detail + children) and written, and the observers told."""
    poll.fetched += len(page)
    valid = cleaning.clean(backend, page, poll)
    prints = {r.external_id: known.fingerprint(r) for r in valid}
    stored = known.existing(backend, prints)
    looked_up = set(prints)
    changed_ids = {r.external_id for r in valid if known.is_changed(r, prints, stored)}
    # Records that arrive with their children (or are children) need no detail call.
    records = [r for r in valid if r.external_id in changed_ids and not needs_detail(r)]
    if to_expand := to_read_in_detail(valid, changed_ids, stored):
        records += cleaning.clean(backend, connector.expand(to_expand), poll)
        # gone between the list and its detail: stored as the list said, then marked gone
        records += [r for r in to_expand if r.external_id in connector.gone]
    for record in records:  # children are fingerprinted by their own content
        if record.external_id not in prints:
            prints[record.external_id] = known.fingerprint(record)
    stored |= known.existing(backend, {r.external_id for r in records} - looked_up)
    now = timezone.now()
    with transaction.atomic():
        writing.relax_durability()
        transitions = writing.upsert(backend, records, prints, stored, poll, now)
        unchanged = [stored[r.external_id].pk for r in valid if r.external_id not in changed_ids]
        Instance.objects.filter(pk__any=unchanged).update(last_seen=now, gone_at=None)
        writing.take_notes(backend, connector, poll, now)
        schedules.note(backend, records, now)
        if transitions:
            observers.tell(backend, transitions, now)
        # with the page, not after it: alone it waited for a WAL flush of its own (~4 ms a
        # page); a page that fails leaves its counters to the poll's finish
        writing.count_on_poll(poll)


def needs_detail(record: RunRecord) -> bool:
    return not record.has_children and record.parent_id is None


def to_read_in_detail(
    valid: list[RunRecord], changed_ids: set[str], stored: dict[str, known.Stored]
) -> list[RunRecord]:
    """Changed runs that came without their steps, and running ones whose list entry did not
    change: their steps may have moved on all the same (a list entry says RUNNING until the
    end), at most LIVE_REREADS_PER_PAGE of those."""
    expandable = [r for r in valid if needs_detail(r)]
    running = [
        r
        for r in expandable
        if r.external_id not in changed_ids and stored[r.external_id].status == Status.RUNNING
    ]
    return [r for r in expandable if r.external_id in changed_ids] + running[:LIVE_REREADS_PER_PAGE]

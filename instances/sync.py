"""RunRecords → database: claim a backend, poll it page by page, upsert, record transitions.

Sync knows the database and nothing of vendors; connectors know vendors and nothing of the
database. Every page is stored in its own transaction, so a poll that dies keeps what it stored
and the next poll resumes from the same watermark.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import bulk, failures, jsontext, rollups
from .alerts import evaluate as alerts
from .connectors import CONNECTORS
from .connectors.base import Connector, ConnectorError, RateLimited, RunRecord
from .models import (
    UNSTORABLE,
    Backend,
    Edge,
    Instance,
    Poll,
    Status,
    StatusChange,
    raw_payload_json,
    storable,
)

log = logging.getLogger(__name__)

# Re-read runs triggered a little before the last successful poll: vendor clocks drift and
# lists are eventually consistent.
WATERMARK_OVERLAP = timedelta(minutes=10)
# Non-terminal runs that fell out of the list window are re-read, this many per poll.
REFRESH_LIMIT = 200
# Running runs read again in detail on every poll, per page of the list, so their steps stay
# live; beyond this many a run's steps wait for its own list entry to change.
LIVE_REREADS_PER_PAGE = 50
BACKOFF_CAP = timedelta(minutes=30)
# A live poll renews its claim every third of this (a heartbeat); a killed worker's claim
# expires by itself this long after its last beat.
CLAIM_TTL = timedelta(seconds=settings.RUNBOARD_CLAIM_SECONDS)


# ---- claiming and scheduling -------------------------------------------------------------


def claim(backend_id: int, now: datetime) -> bool:
    """Take the backend for one poll; False when another worker holds an unexpired claim."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    return bool(Backend.objects.filter(free, pk=backend_id).update(claimed_until=now + CLAIM_TTL))


def release(backend_id: int) -> None:
    Backend.objects.filter(pk=backend_id).update(claimed_until=None)


@contextmanager
def heartbeat(backend_id: int) -> Iterator[None]:
    """Renew the claim while the poll lives, from a thread of its own: however long a poll
    takes it keeps its backend, and a worker that dies frees it within CLAIM_TTL."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(CLAIM_TTL.total_seconds() / 3):
                try:
                    Backend.objects.filter(pk=backend_id).update(
                        claimed_until=timezone.now() + CLAIM_TTL
                    )
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
    due = Backend.objects.filter(enabled=True).filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
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


# ---- one poll ----------------------------------------------------------------------------


def connector_for(backend: Backend) -> Connector:
    return CONNECTORS[backend.kind](backend.connector_config())


def poll_backend(backend_id: int) -> Poll | None:
    """Poll one backend if nobody else is; None when the claim is taken."""
    started = timezone.now()
    if not claim(backend_id, started):
        log.info("backend %s is being polled elsewhere; skipping", backend_id)
        return None
    try:
        close_abandoned(backend_id, started)
        backend = Backend.objects.get(pk=backend_id)
        poll = Poll.objects.create(backend=backend, started_at=started)
        clock = time.monotonic()
        error: ConnectorError | None = None
        try:
            with heartbeat(backend_id):
                run_poll(backend, connector_for(backend), poll)
        except ConnectorError as exc:
            error = exc
            log.warning("poll of backend %s (%s) failed: %s", backend.pk, backend.name, exc)
        except Exception as exc:  # a payload no connector check foresaw: still this backend's
            log.exception("poll of backend %s (%s) crashed", backend.pk, backend.name)
            error = ConnectorError(f"unexpected {type(exc).__name__}: {exc}")
        finish(backend, poll, error, int((time.monotonic() - clock) * 1000))
        return poll
    finally:
        release(backend_id)


def run_poll(backend: Backend, connector: Connector, poll: Poll) -> None:
    since = backend.watermark - WATERMARK_OVERLAP if backend.watermark else None
    for page in connector.iter_pages(since):
        store_page(backend, connector, page, poll)
    stale = (
        backend.instances.roots()
        .active()
        .filter(last_seen__lt=poll.started_at, gone_at__isnull=True)
        .order_by("last_seen")
        .values_list("external_id", flat=True)[:REFRESH_LIMIT]
    )
    if stale_ids := list(stale):
        store_page(backend, connector, connector.refresh(stale_ids), poll)


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
            next_poll_at=now + with_jitter(timedelta(seconds=backend.poll_interval)),
        )
    else:
        poll.outcome = Poll.Outcome.ERROR
        poll.error = str(error)[:2000]
        failures = backend.consecutive_failures + 1
        health.update(
            last_error=poll.error,
            last_error_at=now,
            consecutive_failures=failures,
            next_poll_at=now + backoff(backend.poll_interval, failures, error),
        )
    poll.save()
    Backend.objects.filter(pk=backend.pk).update(**health)


def backoff(interval: int, failures: int, error: ConnectorError) -> timedelta:
    """Exponential and capped; a vendor's Retry-After wins when it asks for longer."""
    delay = min(timedelta(seconds=interval * 2 ** min(failures, 16)), BACKOFF_CAP)
    if isinstance(error, RateLimited) and error.retry_after:
        delay = max(delay, timedelta(seconds=error.retry_after))
    return with_jitter(delay)


# ---- storing one page --------------------------------------------------------------------

# A run's fingerprint covers what its list entry says, so the same run read through the list
# and through its detail (refresh) fingerprints alike; children are compared one by one.
FINGERPRINTED = [f.name for f in fields(RunRecord) if f.name not in ("has_children", "edges")]


def fingerprint(record: RunRecord) -> str:
    content = jsontext.dumps([getattr(record, name) for name in FINGERPRINTED], sort_keys=True)
    # a lone surrogate in a raw payload is hashed as it came
    return hashlib.blake2b(content.encode(errors="surrogatepass"), digest_size=16).hexdigest()


@dataclass
class Stored:
    pk: int
    status: str
    fingerprint: str
    kind: str
    definition_id: str
    run_at: datetime
    duration: timedelta | None
    parent_id: int | None

    def bucket(self) -> tuple:
        top_level = self.parent_id is None
        return (self.kind, top_level, self.definition_id, self.status, self.run_at, self.duration)


def store_page(backend: Backend, connector: Connector, page: list[RunRecord], poll: Poll) -> None:
    """Store one page of top-level records: unchanged ones are only marked seen, changed ones
    are expanded (detail + children) and upserted, transitions recorded."""
    poll.fetched += len(page)
    valid = [storable_record(r) for r in page if is_storable(backend, r, poll)]
    prints = {r.external_id: fingerprint(r) for r in valid}
    stored = existing(backend, prints)
    looked_up = set(prints)
    changed = [r for r in valid if is_changed(r, prints, stored)]
    changed_ids = {r.external_id for r in changed}
    # Records that arrive with their children (or are children) need no detail call.
    expandable = [r for r in valid if not r.has_children and r.parent_id is None]
    to_expand = [r for r in expandable if r.external_id in changed_ids]
    to_expand += running_unchanged(expandable, changed_ids, stored)[:LIVE_REREADS_PER_PAGE]
    records = [r for r in changed if r.has_children or r.parent_id is not None]
    if to_expand:
        records += connector.expand(to_expand)
        # gone between the list and its detail: stored as the list said, then marked gone
        records += [r for r in to_expand if r.external_id in connector.gone]
    records = [storable_record(r) for r in records if is_storable(backend, r, poll)]
    for record in records:  # children are fingerprinted by their own content
        if record.external_id not in prints:
            prints[record.external_id] = fingerprint(record)
    stored |= existing(backend, {r.external_id for r in records} - looked_up)
    now = timezone.now()
    with transaction.atomic():
        relax_durability()
        upsert(backend, records, prints, stored, poll, now)
        unchanged = [stored[r.external_id].pk for r in valid if r.external_id not in changed_ids]
        Instance.objects.filter(pk__in=unchanged).update(last_seen=now, gone_at=None)
        take_notes(backend, connector, poll, now)
    Poll.objects.filter(pk=poll.pk).update(
        fetched=poll.fetched,
        created=poll.created,
        updated=poll.updated,
        changed=poll.changed,
        skipped=poll.skipped,
        error=poll.error,
    )


SKIP_REASONS_KEPT = 5


def take_notes(backend: Backend, connector: Connector, poll: Poll, now: datetime) -> None:
    """What the connector noted while reading this page: runs the vendor no longer knows are
    marked gone (their last known state kept, no longer re-read), skipped records counted with
    their reasons on the poll."""
    gone, connector.gone[:] = list(connector.gone), []
    if gone:
        log.warning("backend %s: %d runs gone from the vendor", backend.pk, len(gone))
        backend.instances.filter(external_id__in=gone).update(gone_at=now, last_seen=now)
    skipped, connector.skipped[:] = list(connector.skipped), []
    if skipped:
        poll.skipped += len(skipped)
        reasons = [*poll.error.splitlines(), *skipped][:SKIP_REASONS_KEPT]
        poll.error = "\n".join(reasons)


def running_unchanged(
    records: list[RunRecord], changed_ids: set[str], stored: dict[str, Stored]
) -> list[RunRecord]:
    """Running runs whose list entry did not change: their steps may have moved on all the
    same (a list entry says RUNNING until the end), so they are read again in detail."""
    return [
        r
        for r in records
        if r.external_id not in changed_ids and stored[r.external_id].status == Status.RUNNING
    ]


def relax_durability() -> None:
    """Everything a poll stores can be fetched again from the vendor, so a page need not wait
    for its WAL flush: a crash loses at most the last moment of pages (the next poll re-reads
    them from the unchanged watermark), never consistency."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def is_storable(backend: Backend, record: RunRecord, poll: Poll) -> bool:
    """A record we cannot store is skipped and counted; the rest of its page is stored."""
    if storable_id(record.external_id):
        return True
    log.error(
        "backend %s: skipping unstorable record %r", backend.pk, str(record.external_id)[:200]
    )
    poll.skipped += 1
    return False


# Identity is never rewritten: is_storable refuses an id with unstorable characters.
TEXT_FIELDS = [f.name for f in fields(RunRecord) if f.type == "str" and f.name != "external_id"]
TIME_FIELDS = ("planned_at", "started_at", "finished_at")
MAX_ATTEMPTS = 2**31 - 1  # the column's range


def storable_record(record: RunRecord) -> RunRecord:
    """The record as the database can take it, whatever the vendor sent: text as text without
    NUL or lone surrogates, times aware or none, counts and durations in range or none, edges
    between storable ids only. One wrong field never costs the record, nor its page."""
    texts = {name: getattr(record, name) for name in TEXT_FIELDS}
    changes = {}
    if not all(type(text) is str for text in texts.values()) or UNSTORABLE.search(
        "".join(texts.values())
    ):  # one look for the usual clean record
        changes = {name: storable(as_text(text)) for name, text in texts.items()}
    for name in TIME_FIELDS:
        moment = getattr(record, name)
        if moment is not None and not (isinstance(moment, datetime) and moment.tzinfo):
            changes[name] = None
    attempts = record.attempts
    if attempts is not None and not (type(attempts) is int and 0 <= attempts <= MAX_ATTEMPTS):
        changes["attempts"] = None
    duration = record.duration
    if duration is not None and not (isinstance(duration, timedelta) and duration.days >= 0):
        changes["duration"] = None
    if record.business_date is not None and not isinstance(record.business_date, date):
        changes["business_date"] = None
    edges = tuple(edge for edge in record.edges if all(storable_id(ext) for ext in edge))
    if edges != record.edges:
        changes["edges"] = edges
    return replace(record, **changes) if changes else record


def as_text(value) -> str:
    """A vendor value that should have been text: JSON for objects and lists, else str()."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return jsontext.dumps(value)
    return "" if value is None else str(value)


def storable_id(ext) -> bool:
    return isinstance(ext, str) and 0 < len(ext) <= 200 and not UNSTORABLE.search(ext)


def is_changed(record: RunRecord, prints: dict[str, str], stored: dict[str, Stored]) -> bool:
    known = stored.get(record.external_id)
    return known is None or known.fingerprint != prints[record.external_id]


def existing(backend: Backend, external_ids: Iterable[str]) -> dict[str, Stored]:
    found = by_external_id(backend, external_ids, *STORED_COLUMNS)
    return {ext: Stored(*values) for ext, values in found.items()}


STORED_COLUMNS = (
    "id",
    "status",
    "fingerprint",
    "kind",
    "definition_id",
    "run_at",
    "duration",
    "parent_id",
)


def pks_of(backend: Backend, external_ids: Iterable[str]) -> dict[str, int]:
    return {ext: pk for ext, (pk,) in by_external_id(backend, external_ids, "id").items()}


def by_external_id(backend: Backend, external_ids: Iterable[str], *columns: str) -> dict:
    """external_id → (columns…) for one backend. On PostgreSQL one array parameter instead of
    a thousand placeholders, which cost more to build than the query costs to run."""
    ids = list(external_ids)
    if not ids:
        return {}
    if connection.vendor != "postgresql":
        rows = Instance.objects.filter(backend=backend, external_id__in=ids)
        return {ext: values for ext, *values in rows.values_list("external_id", *columns)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT external_id, {', '.join(columns)} FROM {Instance._meta.db_table} "
            "WHERE backend_id = %s AND external_id = ANY(%s)",
            [backend.pk, ids],
        )
        return {ext: values for ext, *values in cursor.fetchall()}


CHANGE_COLUMNS = ("instance_id", "from_status", "to_status", "vendor_status", "observed_at")


def upsert(
    backend: Backend,
    records: list[RunRecord],
    prints: dict[str, str],
    stored: dict[str, Stored],
    poll: Poll,
    now: datetime,
) -> None:
    """Write records whose content changed; parents before children, then transitions and
    edges. A few queries per page, never one per run."""
    records = [keep_known_status(r, stored) for r in records if is_changed(r, prints, stored)]
    if not records:
        return
    parents = [r for r in records if r.parent_id is None]
    children = [r for r in records if r.parent_id is not None]
    write_rows(backend, parents, prints, {}, now)
    parent_ids = {r.parent_id for r in children if r.parent_id is not None}
    write_rows(backend, children, prints, pks_of(backend, parent_ids), now)
    created = [r.external_id for r in records if r.external_id not in stored]
    pks = {r.external_id: stored[r.external_id].pk for r in records if r.external_id in stored}
    pks |= pks_of(backend, created)
    transitions = [
        (
            pks[r.external_id],
            stored[r.external_id].status if r.external_id in stored else "",
            str(r.status),
            r.vendor_status[:100],
            now,
        )
        for r in records
        if r.external_id not in stored or stored[r.external_id].status != r.status
    ]
    bulk.append(StatusChange, CHANGE_COLUMNS, transitions)
    deltas = rollups.new_deltas()
    for r in records:
        old = stored.get(r.external_id)
        run_at = r.started_at or r.planned_at or (old.run_at if old else now)
        new = (
            str(r.kind),
            r.parent_id is None,
            r.definition_id[:200],
            str(r.status),
            run_at,
            duration_of(r),
        )
        rollups.move(deltas, old.bucket() if old else None, new)
    rollups.apply(backend.pk, deltas)
    replace_edges(backend, [r for r in records if r.has_children], pks, stored)
    # after the edges: a failure's culprit step is found through them
    roots = {pks[r.external_id] for r in records if r.parent_id is None}
    failed = [
        pks[r.external_id] for r in records if r.parent_id is None and r.status == Status.FAILED
    ]
    if failed:
        failures.sign(list(Instance.objects.filter(pk__in=failed).only(*failures.FIELDS)))
    failures.unsign(list(roots - set(failed)))
    alerts.on_transitions(
        backend, [(pk, before, after) for pk, before, after, *_ in transitions if pk in roots], now
    )
    poll.created += len(created)
    poll.updated += len(records) - len(created)
    poll.changed += sum(from_status != "" for _, from_status, *_ in transitions)


def keep_known_status(record: RunRecord, stored: dict[str, Stored]) -> RunRecord:
    """A record whose status could not be read (schema drift: UNKNOWN) keeps the status we
    knew, so the run's history shows no transition that never happened."""
    known = stored.get(record.external_id)
    if record.status == Status.UNKNOWN and known and known.status != Status.UNKNOWN:
        return replace(record, status=Status(known.status))
    return record


def replace_edges(
    backend: Backend, parents: list[RunRecord], pks: dict[str, int], stored: dict[str, Stored]
) -> None:
    if not parents:
        return
    wanted_ids = {ext for p in parents for edge in p.edges for ext in edge} - pks.keys()
    pks = pks | pks_of(backend, wanted_ids)
    # Only a parent stored before this page can have edges already.
    known = [pks[p.external_id] for p in parents if p.external_id in stored]
    current = set(
        Edge.objects.filter(parent_id__in=known).values_list(
            "parent_id", "upstream_id", "downstream_id"
        )
    )
    wanted = {
        (pks[p.external_id], pks[up], pks[down])
        for p in parents
        for up, down in p.edges
        if up in pks and down in pks
    }
    if wanted == current:
        return
    Edge.objects.filter(parent_id__in=known).delete()
    Edge.objects.bulk_create(
        Edge(parent_id=parent, upstream_id=up, downstream_id=down) for parent, up, down in wanted
    )


COLUMNS = [
    "backend_id",
    "external_id",
    "kind",
    "parent_id",
    "name",
    "definition_id",
    "definition_name",
    "status",
    "vendor_status",
    "flags",
    "planned_at",
    "started_at",
    "finished_at",
    "duration",
    "run_at",
    "attempts",
    "owner",
    "executor",
    "cycle",
    "business_date",
    "log_locator",
    "error_message",
    "raw",
    "fingerprint",
    "first_seen",
    "last_seen",
    "status_changed_at",
    "updated_at",
    "gone_at",
]
# Identity and first sighting never change; run_at keeps first_seen when the vendor gives no time.
KEPT = {"backend_id", "external_id", "first_seen"}
ASSIGNMENTS = {col: f"EXCLUDED.{col}" for col in COLUMNS if col not in KEPT} | {
    "status_changed_at": (
        "CASE WHEN {table}.status <> EXCLUDED.status THEN EXCLUDED.status_changed_at "
        "ELSE {table}.status_changed_at END"
    ),
    "run_at": "COALESCE(EXCLUDED.started_at, EXCLUDED.planned_at, {table}.first_seen)",
    "parent_id": "COALESCE(EXCLUDED.parent_id, {table}.parent_id)",
}


def duration_of(r: RunRecord) -> timedelta | None:
    if r.duration is None and r.started_at and r.finished_at:
        return r.finished_at - r.started_at
    return r.duration


def row(
    backend: Backend, r: RunRecord, fingerprint: str, parent_pk: int | None, now: datetime
) -> list:
    """One record as a row of COLUMNS; JSON columns as text, times as aware datetimes."""
    return [
        backend.pk,
        r.external_id,
        str(r.kind),
        parent_pk,
        r.name[:500],
        r.definition_id[:200],
        r.definition_name[:500],
        str(r.status),
        r.vendor_status[:100],
        jsontext.dumps(r.flags),
        r.planned_at,
        r.started_at,
        r.finished_at,
        duration_of(r),
        r.started_at or r.planned_at or now,
        r.attempts,
        r.owner[:200],
        r.executor[:200],
        r.cycle[:20],
        r.business_date,
        r.log_locator[:1000],
        r.error_message,
        raw_payload_json(r.raw),
        fingerprint,
        now,
        now,
        now,
        now,
        None,  # read again: not gone
    ]


def write_rows(
    backend: Backend,
    records: list[RunRecord],
    prints: dict[str, str],
    parent_pks: dict[str, int],
    now: datetime,
) -> None:
    rows = [
        row(backend, r, prints[r.external_id], parent_pks.get(r.parent_id or ""), now)
        for r in records
    ]
    bulk.upsert(Instance, COLUMNS, rows, ("backend_id", "external_id"), ASSIGNMENTS)

"""Writing one page of clean records: runs upserted in bulk (parents before children), one
StatusChange per real transition, hourly rollups moved, edges replaced, failures signed, and
what the connector noted (gone runs, skipped records) kept. Knows the database, nothing of
vendors, and nothing of who reacts to what it wrote."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from django.db import connection

from . import bulk, failures, jsontext, rollups, tries
from .connectors.base import Connector, RunRecord
from .known import Stored, is_changed, pks_of
from .models import (
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

# (run pk, status before ("" when first seen), status now)
type Transition = tuple[int, str, str]


def relax_durability() -> None:
    """Everything a poll stores can be fetched again from the vendor, so a page need not wait
    for its WAL flush: a crash loses at most the last moment of pages (the next poll re-reads
    them from the unchanged watermark), never consistency."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


CHANGE_COLUMNS = ("instance_id", "from_status", "to_status", "vendor_status", "observed_at")


def upsert(
    backend: Backend,
    records: list[RunRecord],
    prints: dict[str, str],
    stored: dict[str, Stored],
    poll: Poll,
    now: datetime,
) -> list[Transition]:
    """Write records whose content changed; parents before children, then transitions and
    edges. A few queries per page, never one per run. Returns the top-level runs'
    transitions, for the observers."""
    records = [keep_known_status(r, stored) for r in records if is_changed(r, prints, stored)]
    if not records:
        return []
    parents = [r for r in records if r.parent_id is None]
    children = [r for r in records if r.parent_id is not None]
    tries.keep_stored(
        [
            stored[r.external_id].pk
            for r in records
            if tries.began_again(r, stored.get(r.external_id))
        ]
    )
    pks = write_rows(backend, parents, prints, {}, now)
    parent_ids = {r.parent_id for r in children if r.parent_id is not None} - pks.keys()
    pks |= write_rows(backend, children, prints, pks | pks_of(backend, parent_ids), now)
    tries.write_listed([r for r in records if r.tries], pks)
    created = [r.external_id for r in records if r.external_id not in stored]
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
        failures.sign(list(Instance.objects.filter(pk__any=failed).only(*failures.FIELDS)))
    # a run that failed before and does not now (a retry, a rerun) loses its signature
    recovered = [
        pks[r.external_id]
        for r in records
        if r.parent_id is None
        and r.status != Status.FAILED
        and r.external_id in stored
        and stored[r.external_id].status == Status.FAILED
    ]
    failures.unsign(recovered)
    poll.created += len(created)
    poll.updated += len(records) - len(created)
    poll.changed += sum(from_status != "" for _, from_status, *_ in transitions)
    return [(pk, before, after) for pk, before, after, *_ in transitions if pk in roots]


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
    # Any parent may have edges already, not only those this page's snapshot knew: a poll that
    # overlapped another (its claim lapsed under load) may find a "new" run stored since.
    known = [pks[p.external_id] for p in parents]
    current = set(
        Edge.objects.filter(parent_id__any=known).values_list(
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
    Edge.objects.filter(parent_id__any=known).delete()
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
) -> dict[str, int]:
    """Upsert the records; external_id → pk of each."""
    rows = [
        row(backend, r, prints[r.external_id], parent_pks.get(r.parent_id or ""), now)
        for r in records
    ]
    identity = ("backend_id", "external_id")
    return dict(bulk.upsert(Instance, COLUMNS, rows, identity, ASSIGNMENTS, ("external_id", "id")))


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
        # a reason quotes the vendor's id as sent: a NUL there would fail the page's write
        reasons = [*poll.error.splitlines(), *map(storable, skipped)][:SKIP_REASONS_KEPT]
        poll.error = "\n".join(reasons)


def count_on_poll(poll: Poll) -> None:
    Poll.objects.filter(pk=poll.pk).update(
        fetched=poll.fetched,
        created=poll.created,
        updated=poll.updated,
        changed=poll.changed,
        skipped=poll.skipped,
        error=poll.error,
    )

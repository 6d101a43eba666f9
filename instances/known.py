"""What a backend's runs were when last stored: their fingerprints (did the vendor's record
change?), their statuses (is this a transition?) and their rollup buckets, read in one query
per page, never one per run."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from itertools import zip_longest

from django.db import connection

from . import jsontext
from .connectors.base import RunRecord
from .models import Backend, Instance, Status
from .status import TERMINAL, UNFINISHED

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
    attempts: int | None

    def bucket(self) -> tuple:
        top_level = self.parent_id is None
        return (self.kind, top_level, self.definition_id, self.status, self.run_at, self.duration)


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
    "attempts",
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


# What the list did not show again but may have changed, read again by id after it, oldest
# sighting first (so, in turn): runs not finished yet, this many a poll ...
UNFINISHED_REREADS = 200
# ... and finished ones, as a run that ended is not final: on-call retries a failed run in
# the vendor's console, and vendors rerun and delete. Failed runs of the last AFTERLIFE and
# every run of the last hour, as many a poll as the connector says (Connector.finished_rereads).
AFTERLIFE = timedelta(days=7)
LATELY = timedelta(hours=1)


def to_read_again(backend: Backend, poll_started: datetime, finished: int) -> list[str]:
    """External ids of the backend's top-level runs to read again by id after the list: the
    unfinished ones, and `finished` of the ended ones."""
    unseen = backend.instances.roots().filter(last_seen__lt=poll_started, gone_at__isnull=True)
    unfinished = unseen.filter(status__in=UNFINISHED).order_by("last_seen", "pk")
    ids = list(unfinished.values_list("external_id", flat=True)[:UNFINISHED_REREADS])
    # two windows, each read through its run_at index, however many runs the table holds
    windows = [
        list(runs.order_by("last_seen").values_list("external_id", flat=True)[:finished])
        for runs in (
            unseen.filter(status__in=TERMINAL, run_at__gte=poll_started - LATELY),
            unseen.filter(status=Status.FAILED, run_at__gte=poll_started - AFTERLIFE),
        )
    ]
    # taken in turn, least recently seen first in each, so they share the budget (either's
    # unused share goes to the other): by last seen alone, a week of failures would always
    # come before the last hour's runs, the likeliest to change
    taken = (ext for pair in zip_longest(*windows) for ext in pair if ext is not None)
    return ids + list(dict.fromkeys(taken))[:finished]

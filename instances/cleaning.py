"""Cleaning a vendor's record into one the database can take: whatever the vendor sent, one
bad field never costs the record, and one bad record never costs its page."""

from __future__ import annotations

import logging
from dataclasses import fields, replace
from datetime import date, datetime, timedelta

from . import jsontext
from .connectors.base import EarlierTry, RunRecord
from .models import UNSTORABLE, Backend, Poll, storable

log = logging.getLogger(__name__)


def clean(backend: Backend, records: list[RunRecord], poll: Poll) -> list[RunRecord]:
    """The records of a page that can be stored, each made storable, each id once: a vendor
    that repeats an id in one answer is taken at its last word, and the repeat counted."""
    kept: dict[str, RunRecord] = {}
    for record in records:
        if not is_storable(backend, record, poll):
            continue
        if record.external_id in kept:
            log.error("backend %s: id %r repeated in one answer", backend.pk, record.external_id)
            poll.skipped += 1
        kept[record.external_id] = storable_record(record)
    return list(kept.values())


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
    if record.tries:
        changes["tries"] = storable_tries(record.tries)
    return replace(record, **changes) if changes else record


def storable_tries(tries) -> tuple[EarlierTry, ...]:
    """Earlier tries with a number in range, each number once (the vendor's last word)."""
    kept = {}
    for earlier in tries:
        if not (type(earlier.number) is int and 0 < earlier.number <= MAX_ATTEMPTS):
            continue
        times = {
            name: moment if isinstance(moment, datetime) and moment.tzinfo else None
            for name in ("started_at", "finished_at")
            if (moment := getattr(earlier, name)) is not None
        }
        texts = {
            name: storable(as_text(getattr(earlier, name)))
            for name in ("error_message", "log_locator")
        }
        kept[earlier.number] = replace(earlier, **times, **texts)
    return tuple(kept.values())


def as_text(value) -> str:
    """A vendor value that should have been text: JSON for objects and lists, else str()."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return jsontext.dumps(value)
    return "" if value is None else str(value)


def storable_id(ext) -> bool:
    return isinstance(ext, str) and 0 < len(ext) <= 200 and not UNSTORABLE.search(ext)

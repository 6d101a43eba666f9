"""Accepting OpenLineage events into a push backend: each checked (the spec, the backend's
namespaces) before any is kept, kept once however often sent, and the runs they touch folded
again from all of their events and stored as a poll stores a page (alerts included)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, replace

from django.db import transaction

from instances import crypto, sync
from instances.connectors.base import RunRecord
from instances.connectors.normalize import iso
from instances.models import Backend, storable

from . import schema
from .fold import airflow_tasks, edges_between, fold, parent_of, unseen_tasks
from .models import LineageEvent

KIND = "openlineage"
MAX_EVENTS = 1000  # in one request


class Rejected(Exception):
    """Nothing was kept; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Accepted:
    kept: int  # new events
    repeated: int  # events already kept (sent again)
    runs: int  # runs stored again


def backend_for(token: str) -> Backend | None:
    """The push backend this token writes into (only the token's hash is kept)."""
    if not token:
        return None
    return Backend.objects.filter(
        kind=KIND, enabled=True, push_token_hash=crypto.key_hash(token)
    ).first()


def namespaces(backend: Backend) -> set[str]:
    given = backend.scope.get("namespaces", backend.scope.get("namespace", []))
    return {given} if isinstance(given, str) else {str(n) for n in given or []}


def accept(backend: Backend, events: list) -> Accepted:
    if not 0 < len(events) <= MAX_EVENTS:
        raise Rejected(400, f"send 1 to {MAX_EVENTS} events a request")
    mine = namespaces(backend)
    for n, event in enumerate(events):
        if found := schema.problems(event):
            raise Rejected(400, f"event {n} is not an OpenLineage run event: " + "; ".join(found))
        namespace = event["job"]["namespace"]
        if namespace not in mine:
            raise Rejected(403, f"event {n}: namespace {namespace[:100]!r} is not this backend's")
        if iso(event.get("eventTime")) is None:
            raise Rejected(400, f"event {n}: eventTime is not an ISO 8601 time with its zone")
    rows = {row.digest: row for row in (as_row(backend, event) for event in events)}
    with transaction.atomic():
        # one writer a backend at a time: a fold sees every event kept before it
        Backend.objects.select_for_update().filter(pk=backend.pk).first()
        known = set(
            LineageEvent.objects.filter(backend=backend, digest__in=rows).values_list(
                "digest", flat=True
            )
        )
        new = [row for digest, row in rows.items() if digest not in known]
        LineageEvent.objects.bulk_create(new, ignore_conflicts=True)
        records = refold(backend, {r.run_id for r in new} | {r.parent_run_id for r in new} - {""})
        if records:
            sync.store_pushed(backend, records)
    return Accepted(len(new), len(events) - len(new), len(records))


def family(parent_events: list[dict], runs: dict[str, list[dict]]) -> list[RunRecord]:
    """A parent run and its steps: those that sent events, and those only its Airflow facets
    tell of, with the edges between them all."""
    downstream, states = airflow_tasks(parent_events)
    parent = fold(parent_events)
    steps = [fold(run_events) for run_events in runs.values()]
    unseen = unseen_tasks(parent, {s.definition_id for s in steps}, states)
    # the unseen ones are known by their job's name, as the others' events name theirs
    named = runs | {u.external_id: [{"job": {"name": u.definition_id}}] for u in unseen}
    edges = edges_between(named, downstream, parent.definition_id)
    return [replace(parent, edges=edges), *steps, *unseen]


def as_row(backend: Backend, event: dict) -> LineageEvent:
    """The event as kept (its time was checked before), with what PostgreSQL cannot hold in
    its text (NUL, lone surrogates) replaced; its digest is of the event as sent."""
    moment = iso(event["eventTime"])
    assert moment is not None
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return LineageEvent(
        backend=backend,
        run_id=storable(str(event["run"]["runId"])[:200]),
        parent_run_id=storable(parent_of(event)[:200]),
        event_type=str(event.get("eventType") or "")[:10],
        event_time=moment,
        digest=hashlib.sha256(canonical.encode(errors="replace")).hexdigest(),
        payload=storable(event),
    )


def refold(backend: Backend, run_ids: set[str]) -> list[RunRecord]:
    """The touched runs again from all their events, parents first; a parent with its
    children (their links and its edges come from them)."""
    kept = LineageEvent.objects.filter(backend=backend)
    events: dict[str, list[dict]] = defaultdict(list)
    for run_id, payload in kept.filter(run_id__in=run_ids).values_list("run_id", "payload"):
        events[run_id].append(payload)
    children: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for parent, run_id, payload in kept.filter(parent_run_id__in=run_ids).values_list(
        "parent_run_id", "run_id", "payload"
    ):
        children[parent][run_id].append(payload)
    records = []
    for parent, runs in children.items():
        if parent in events:
            records += family(events.pop(parent), runs)
        else:  # its own events are still to come: its steps wait under no parent
            records += [fold(run_events) for run_events in runs.values()]
        for run_id in runs:
            events.pop(run_id, None)
    return records + [fold(run_events) for run_events in events.values()]

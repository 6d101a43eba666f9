"""What no transition announces, found by a periodic check over the few rows concerned:
stale backends, stuck runs (running runs only) and missed schedules (ruled definitions only)."""

from __future__ import annotations

import logging
import statistics
from datetime import datetime, timedelta
from itertools import pairwise

from django.db import transaction

from instances import rollups
from instances.models import Backend, Instance, Rollup, Status

from .lifecycle import HISTORY, Kind, fire, matches, resolve, rules_for
from .models import Alert

SCHEDULE_HISTORY = timedelta(days=35)  # a monthly definition has run within it
MISSING_DEFINITIONS = 200  # definitions one unscoped "missing" rule watches per backend
log = logging.getLogger(__name__)


def check(now: datetime) -> None:
    """Stale backends, stuck runs and missed schedules, a backend and a check at a time, each
    in its own savepoint: one that fails is logged and every other is made all the same."""
    for backend in Backend.objects.filter(enabled=True):
        for each in (check_stale, check_stuck, check_missing):
            try:
                with transaction.atomic():
                    each(backend, now)
            except Exception:
                log.exception("alert check %s of backend %s failed", each.__name__, backend.pk)


def check_stale(backend: Backend, now: datetime) -> None:
    for rule in rules_for(backend, Kind.STALE):
        key = f"backend:{backend.pk}"
        if backend.is_stale:
            why = backend.last_error or "no successful poll for three intervals"
            fire(
                rule,
                backend,
                key,
                "",
                {"title": f"{backend.name} is stale", "error_line": why[:500]},
                now,
            )
        else:
            resolve(Alert.objects.filter(rule=rule, key=key), now, f"{backend.name} answers")


def check_stuck(backend: Backend, now: datetime) -> None:
    rules = rules_for(backend, Kind.STUCK)
    if not rules:
        return
    running = list(
        Instance.objects.filter(backend=backend, parent__isnull=True, status=Status.RUNNING).only(
            "name",
            "definition_id",
            "definition_name",
            "owner",
            "run_at",
            "started_at",
            "status_changed_at",
            "backend_id",
        )
    )
    usual = rollups.usual_durations(running, now)
    resolve(
        Alert.objects.filter(rule__in=rules, backend=backend).exclude(
            run__in=[run.pk for run in running]
        ),
        now,
        "the run ended",
    )
    for rule in rules:
        for run in running:
            if not matches(rule, run):
                continue
            running_for = now - (run.started_at or run.run_at)
            typical = usual.get((run.backend_id, run.definition_id))
            silent = rule.silent_minutes and (
                now - run.status_changed_at > timedelta(minutes=rule.silent_minutes)
            )
            overdue = typical is not None and running_for > typical * rule.stuck_factor
            if overdue or silent:
                quiet = now - run.status_changed_at
                why = (
                    f"running for {format_span(running_for)}, usually {format_span(typical)}"
                    if overdue
                    else f"no change for {format_span(quiet)}"
                )
                fire(
                    rule,
                    backend,
                    f"run:{run.pk}",
                    run.definition_id,
                    {
                        "title": f"{run.name} is stuck on {backend.name}",
                        "run": run,
                        "error_line": why,
                    },
                    now,
                )


def check_missing(backend: Backend, now: datetime) -> None:
    """A definition that runs on a schedule (learned from its last runs' start times) that
    did not start within the grace period after its next expected time."""
    for rule in rules_for(backend, Kind.MISSING):
        # the definitions that ran lately, from the hourly rollups (not a scan of the runs)
        definitions = (
            [rule.definition_id]
            if rule.definition_id
            else list(
                Rollup.objects.filter(
                    backend=backend, top_level=True, hour__gte=now - SCHEDULE_HISTORY
                )
                .values_list("definition_id", flat=True)
                .distinct()[:MISSING_DEFINITIONS]
            )
        )
        for definition in definitions:
            recent = list(
                Instance.objects.filter(
                    backend=backend, parent__isnull=True, definition_id=definition
                )
                .only("name", "definition_id", "definition_name", "owner", "run_at")
                .order_by("-run_at")[:HISTORY]
            )
            expected = next_expected([run.run_at for run in recent])
            if expected is None:
                continue
            late, last = now - expected, recent[0]
            key = f"missing:{definition}"
            if late <= timedelta(minutes=rule.grace_minutes):
                resolve(Alert.objects.filter(rule=rule, key=key), now, "it started")
            elif matches(rule, last):
                fire(
                    rule,
                    backend,
                    key,
                    definition,
                    {
                        "title": f"{last.definition_name or last.name} did not start on "
                        f"{backend.name}",
                        "run": last,
                        "error_line": f"expected at {expected:%Y-%m-%d %H:%M} UTC, "
                        f"{format_span(late)} ago",
                    },
                    now,
                )


def next_expected(starts: list[datetime]) -> datetime | None:
    """When a definition's next run should start, from its last starts (newest first): the
    last plus its usual interval (the median of the gaps), if they keep a schedule (at least
    3 alike gaps)."""
    gaps = [later - earlier for later, earlier in pairwise(starts)]
    if len(gaps) < 3:
        return None
    interval = timedelta(seconds=statistics.median(g.total_seconds() for g in gaps))
    regular = [g for g in gaps if abs(g - interval) <= interval * 0.1]
    if not interval or len(regular) < 3:
        return None
    return starts[0] + interval


def format_span(span: timedelta | None) -> str:
    seconds = int(span.total_seconds()) if span else 0
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"

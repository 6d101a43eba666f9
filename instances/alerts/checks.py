"""What no transition announces, found by a periodic check over the few rows concerned:
stale backends, stuck runs (running runs only) and missed schedules (ruled definitions only)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

from django.conf import settings
from django.db import transaction

from instances import calendars, rollups, schedules, scheduling
from instances.models import STALE_AFTER, Backend, Instance, Status
from instances.people.models import ClosedDay
from instances.registry import PUSHED_KINDS

from . import deadlines, reminders
from .headlines import NOT_POLLING
from .lifecycle import HISTORY, Kind, fire, matches, resolve, rules_for, watched_definitions
from .models import Alert, AlertRule

# A backend is called stale after STALE_AFTER intervals without a successful poll, and not
# before this; no poll of any backend ending for as long is Runboard's own fault.
STALE_PENDING = timedelta(seconds=settings.RUNBOARD_STALE_PENDING_SECONDS)
log = logging.getLogger(__name__)


def check(now: datetime) -> None:
    """Alerts due to be told (after a silence, or again), stale backends, stuck runs, missed
    schedules and deadlines, a backend and a check at a time, each in its own savepoint: one
    that fails is logged and every other is made all the same.
    While Runboard itself is not polling, it says so once and blames no vendor; while a
    backend is stale, what its runs did is unknown, so its stuck, missing and late checks
    wait."""
    guarded(reminders.tell_later, now)
    enabled = Backend.objects.filter(enabled=True)
    backends = list(enabled.exclude(kind__in=PUSHED_KINDS))
    if backends and not polling(backends, now):
        guarded(runboard_not_polling, backends, now)
        return
    guarded(polls_run_again, now)
    fresh = set()
    for backend in backends:
        guarded(check_stale, backend, now)
        if not is_stale(backend, now):
            fresh.add(backend.pk)
            guarded(check_stuck, backend, now)
            guarded(check_missing, backend, now)
            guarded(deadlines.check_late, backend, now)
    # a push backend is never stale: a scheduler with nothing to run sends nothing. What its
    # silence can hide, a run started and never ended, or one that never started, the stuck
    # and missing checks tell.
    for backend in enabled.filter(kind__in=PUSHED_KINDS):
        fresh.add(backend.pk)
        guarded(check_stuck, backend, now)
        guarded(check_missing, backend, now)
        guarded(deadlines.check_late, backend, now)
    for rule in deadlines.product_rules():  # a product's definitions span backends
        guarded(deadlines.check_product, rule, fresh, now)


def guarded(each, *args) -> None:
    try:
        with transaction.atomic():
            each(*args)
    except Exception:
        log.exception("alert check %s failed for %s", getattr(each, "__name__", each), args[:1])


def polling(backends: list[Backend], now: datetime) -> bool:
    """Whether Runboard polls at all: some backend's poll ended (well or not) lately, or none
    is overdue (one failing waits out its backoff: its polls ending far apart is the vendor's
    doing, not Runboard's)."""
    window = max(
        STALE_PENDING, STALE_AFTER * timedelta(seconds=min(b.poll_interval for b in backends))
    )
    if any(b.last_poll_at and now - b.last_poll_at <= window for b in backends):
        return True
    due = [scheduling.next_poll_due(b) for b in backends]
    return all(at is not None and at >= now for at in due)


def runboard_not_polling(backends: list[Backend], now: datetime) -> None:
    """One alert a team (each stale rule's), not one per backend: the fault is Runboard's."""
    newest = max((b.last_poll_at for b in backends if b.last_poll_at), default=None)
    since = f"for {format_span(now - newest)}" if newest else "since it started"
    for rule in AlertRule.objects.filter(kind=Kind.STALE, enabled=True):
        fire(
            rule,
            None,
            NOT_POLLING,
            "",
            {
                "title": "Runboard is not polling",
                "error_line": f"no poll of any backend has ended {since}: its workers or beat "
                "are down, so no backend is called stale for it",
            },
            now,
        )


def polls_run_again(now: datetime) -> None:
    resolve(Alert.objects.filter(key=NOT_POLLING), now, "polls run again")


def is_stale(backend: Backend, now: datetime) -> bool:
    """No successful poll for STALE_AFTER intervals, and for STALE_PENDING at least: a
    moment's pause of Runboard's own (a worker restarting) blames no vendor."""
    pending = max(STALE_PENDING, STALE_AFTER * timedelta(seconds=backend.poll_interval))
    return backend.last_success_at is None or now - backend.last_success_at > pending


def check_stale(backend: Backend, now: datetime) -> None:
    for rule in rules_for(backend, Kind.STALE):
        key = f"backend:{backend.pk}"
        if is_stale(backend, now):
            why = backend.last_error or "no successful poll for three intervals"
            fire(
                rule,
                backend,
                key,
                "",
                {
                    "title": f"{backend.name} is stale",
                    "error_line": f"{why[:400]} (its stuck and missing alerts wait meanwhile)",
                },
                now,
            )
            probe_promptly(backend, now)
        else:
            resolve(Alert.objects.filter(rule=rule, key=key), now, f"{backend.name} answers")


def probe_promptly(backend: Backend, now: datetime) -> None:
    """While it is called stale, a backend is polled at its own interval, not at its failure
    backoff (up to 30 min): its recovery is seen, and its alert resolved, within an interval.
    A vendor's Retry-After still holds."""
    soon = max(
        now,
        (backend.last_poll_at or now) + timedelta(seconds=backend.poll_interval),
        backend.not_before or now,
    )
    Backend.objects.filter(pk=backend.pk, next_poll_at__gt=soon).update(next_poll_at=soon)


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
    """A definition that runs on a schedule (its vendor's cron, else learned from its last
    runs' start times) that did not start within the grace period after its next expected
    time on its calendar's working days."""
    crons = {s.definition_id: s.cron for s in schedules.of([backend.pk])}
    for rule in rules_for(backend, Kind.MISSING):
        closed = frozenset(
            ClosedDay.objects.filter(team_id=rule.team_id).values_list("day", flat=True)
        )
        for definition in watched_definitions(rule, backend, now):
            recent = list(
                Instance.objects.filter(
                    backend=backend, parent__isnull=True, definition_id=definition
                )
                .only("name", "definition_id", "definition_name", "owner", "run_at")
                .order_by("-run_at")[:HISTORY]
            )
            zone = calendars.zone_of(rule.calendar, backend.timezone)
            moments = expected_after([run.run_at for run in recent], crons.get(definition), zone)
            # past the days its calendar has no run on
            expected = calendars.next_working(moments, rule.calendar, zone, closed)
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
                        "error_line": f"expected at {expected.astimezone(UTC):%Y-%m-%d %H:%M} UTC, "
                        f"{format_span(late)} ago",
                    },
                    now,
                )


def expected_after(starts: list[datetime], cron: str | None, zone) -> Iterator[datetime]:
    """When the definition's next runs should start, after its last start (newest first):
    as its vendor's cron fires, else every usual interval; none when neither is known."""
    if not starts:
        return iter(())
    if cron:
        return schedules.after(cron, starts[0], zone)
    if (every := schedules.usual_interval(starts)) is None:
        return iter(())
    return (starts[0] + n * every for n in count(1))


def format_span(span: timedelta | None) -> str:
    seconds = int(span.total_seconds()) if span else 0
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"

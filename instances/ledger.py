"""The expected-run ledger: the runs each scheduled definition was expected to start in a
window (its vendor's cron, or the one learned from its runs, in its backend's zone), each
matched to the run that came for it and judged against its team's calendar, grace and
deadline: on time, late, running, running late, failed, missed, due, upcoming, or not
expected (a day its calendar is off)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import models
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from . import calendars, forecast, schedules, zones
from .alerts.models import AlertRule, DeadlineDay
from .models import Backend, Instance, Status
from .people.models import ClosedDay
from .schedules import Scheduled

DEFAULT_GRACE = timedelta(minutes=30)  # a missing rule's default too
MOST_RUNS = 20_000  # runs of a window matched at most: one team's day is a few thousand


class State(models.TextChoices):
    ON_TIME = "on_time", _("on time")
    LATE = "late", _("late")
    RUNNING = "running", _("running")
    RUNNING_LATE = "running_late", _("running late")
    FAILED = "failed", _("failed")
    MISSED = "missed", _("missed")
    DUE = "due", _("due")
    UPCOMING = "upcoming", _("upcoming")
    NOT_EXPECTED = "not_expected", _("not expected")


@dataclass(frozen=True)
class Terms:
    """What a definition is held to: its rules' calendar, grace and deadline."""

    calendar: str = calendars.EVERY_DAY
    grace: timedelta = DEFAULT_GRACE
    deadline: time | None = None
    deadline_zone: str = ""
    closed: frozenset[date] = frozenset()


class Came(NamedTuple):
    """The run that came for an expected time, as plain values: a day's thousands are judged
    on each reading."""

    pk: int
    name: str
    status: str
    run_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass
class Expected:
    backend: Backend
    schedule: Scheduled
    at: datetime
    state: State
    run: Came | None = None
    deadline: datetime | None = None
    predicted: datetime | None = None  # a running run's predicted finish


def day(backends: list[Backend], start: datetime, end: datetime, now: datetime) -> list[Expected]:
    """Every expected run of these backends' scheduled definitions in [start, end), oldest
    first."""
    by_id = {b.pk: b for b in backends}
    if not (scheduled := schedules.of(list(by_id))):
        return []
    runs = runs_by_definition(list(by_id), start, end)
    rules, closed = rules_of(backends), closed_days_of(backends)
    named = {rule.definition_id for rule in rules}  # "" among them: rules for every one
    named |= {definition for rule in rules for _backend, definition in rule.parts}
    held: dict[tuple[int, str], tuple[Terms, ZoneInfo]] = {}
    window = start.timestamp(), end.timestamp()  # once, not once a schedule: 2,800 on a page
    ledger = []
    for schedule in scheduled:
        backend = by_id[schedule.backend_id]
        key = (backend.pk, schedule.definition_id if schedule.definition_id in named else "")
        if key not in held:
            terms = terms_for(rules, closed, backend, key[1])
            held[key] = terms, calendars.zone_of(terms.calendar, backend.timezone)
        terms, zone = held[key]
        times = schedules.fired_in(schedule.cron, *window, zone.key)
        came = runs[schedule.backend_id, schedule.definition_id]
        ledger += judge(backend, schedule, times, came, terms, zone, now)
    return sorted(ledger, key=lambda expected: (expected.at, expected.schedule.definition_id))


def runs_by_definition(
    backend_ids: list[int], start: datetime, end: datetime
) -> dict[tuple[int, str], list[Came]]:
    """The window's top-level runs, by what started them (a rerun kept in place counts once)."""
    runs = (
        Instance.objects.filter(
            backend__in=backend_ids, parent__isnull=True, run_at__gte=start, run_at__lt=end
        )
        .order_by("run_at", "id")
        .values_list(
            "backend_id",
            "definition_id",
            "pk",
            "name",
            "status",
            "run_at",
            "started_at",
            "finished_at",
        )[:MOST_RUNS]
    )
    found: dict[tuple[int, str], list[Came]] = defaultdict(list)
    for backend, definition, pk, name, status, run_at, started, finished in runs:
        found[backend, definition].append(Came(pk, name, status, run_at, started, finished))
    return found


def rules_of(backends: list[Backend]) -> list[AlertRule]:
    teams = {b.team_id for b in backends}
    kinds = (AlertRule.Kind.MISSING, AlertRule.Kind.LATE, AlertRule.Kind.LATE_SOON)
    return list(AlertRule.objects.filter(team__in=teams, kind__in=kinds, enabled=True))


def closed_days_of(backends: list[Backend]) -> dict[int | None, frozenset[date]]:
    days = ClosedDay.objects.filter(team__in={b.team_id for b in backends})
    closed: dict[int | None, set[date]] = defaultdict(set)
    for team, day in days.values_list("team_id", "day"):
        closed[team].add(day)
    return defaultdict(frozenset, {team: frozenset(d) for team, d in closed.items()})


def terms_for(
    rules: list[AlertRule],
    closed: dict[int | None, frozenset[date]],
    backend: Backend,
    definition: str,
) -> Terms:
    """The calendar, grace and deadline of the team's missing and late rules that cover the
    definition (one naming it, or its data product, over one for the whole backend or team)."""
    covering = sorted(
        (r for r in rules if r.team_id == backend.team_id and r.covers(backend.pk, definition)),
        key=lambda r: (r.definition_id == "" and r.product_id is None, r.backend_id is None),
    )
    missing = next((r for r in covering if r.kind == AlertRule.Kind.MISSING), None)
    late = next((r for r in covering if r.kind != AlertRule.Kind.MISSING and r.deadline), None)
    first = missing or late
    if first is None:
        return Terms()
    return Terms(
        calendar=first.calendar,
        grace=timedelta(minutes=missing.grace_minutes) if missing else DEFAULT_GRACE,
        deadline=late.deadline if late else None,
        deadline_zone=late.deadline_zone if late and zones.zone(late.deadline_zone) else "",
        closed=closed[backend.team_id],
    )


def judge(
    backend: Backend,
    schedule: Scheduled,
    times: tuple[schedules.Fired, ...],
    runs: list[Came],
    terms: Terms,
    zone: ZoneInfo,
    now: datetime,
) -> list[Expected]:
    """Each expected time matched to the first run that started at or after it and before
    the next one."""
    judged = []
    for (at, local_day), following in zip(times, [*times[1:], None], strict=False):
        until = following.at if following else None
        run = next((r for r in runs if at <= began(r) and (not until or began(r) < until)), None)
        due = deadline_on(local_day, terms, zone)
        if not calendars.is_working_day(local_day, terms.calendar, terms.closed):
            state = State.NOT_EXPECTED
        elif run is not None:
            state = state_of(run, due, now)
        elif at > now:
            state = State.UPCOMING
        else:
            state = State.DUE if now - at <= terms.grace else State.MISSED
        judged.append(Expected(backend, schedule, at, state, run, due))
    return judged


def began(run: Came) -> datetime:
    return run.started_at or run.run_at


def deadline_on(day: date, terms: Terms, zone: ZoneInfo) -> datetime | None:
    if terms.deadline is None:
        return None
    return deadline_at(day, terms.deadline, terms.deadline_zone or zone.key)


@lru_cache(maxsize=10_000)
def deadline_at(day: date, deadline: time, zone_name: str) -> datetime:
    return datetime.combine(day, deadline, ZoneInfo(zone_name)).astimezone(UTC)


def state_of(run: Came, due: datetime | None, now: datetime) -> State:
    status = Status(run.status)
    if status in (Status.SUCCEEDED, Status.SKIPPED):
        late = due is not None and run.finished_at is not None and run.finished_at > due
        return State.LATE if late else State.ON_TIME
    if status.is_terminal:
        return State.FAILED
    return State.RUNNING_LATE if due is not None and now > due else State.RUNNING


def foresee(expected: list[Expected], now: datetime) -> None:
    """The predicted finish of each running one (its runs read in one query, then a forecast
    each: for the rows shown)."""
    running = [
        item
        for item in expected
        if item.run is not None and item.state in (State.RUNNING, State.RUNNING_LATE)
    ]
    runs = Instance.objects.in_bulk([item.run.pk for item in running if item.run])
    for item in running:
        if item.run and (run := runs.get(item.run.pk)):
            item.predicted = forecast.finish(run, now)


RATE_DAYS = (7, 30, 90)
WORST_SHOWN = 20  # definitions listed under the team's rates, the least often on time first
KEPT_FOR = timedelta(minutes=5)  # how old the rates may be


@dataclass
class Kept:
    """How often deadlines were met over the last 7, 30 and 90 days: (met, decided days)."""

    backend_id: int | None
    definition_id: str
    rates: dict[int, tuple[int, int]]

    def rate(self, days: int) -> float | None:
        met, decided = self.rates[days]
        return met / decided if decided else None


def deadlines_kept(backend_ids: list[int], today: date) -> tuple[Kept, list[Kept]]:
    """The team's rates, and each definition's (the least often met first), from the days the
    late rules decided: counted at most every KEPT_FOR (a team's 90 days are ~250,000 rows,
    and a day is decided once)."""
    ids = sorted(backend_ids)
    key = f"deadlines-kept:{today}:{','.join(map(str, ids))}"
    kept = cache.get(key)
    if kept is None:
        kept = count_kept(ids, today)
        cache.set(key, kept, KEPT_FOR.total_seconds())
    return kept


def count_kept(backend_ids: list[int], today: date) -> tuple[Kept, list[Kept]]:
    counts = {}
    for days in RATE_DAYS:
        since = Q(day__gt=today - timedelta(days=days))
        counts[f"met{days}"] = Count("pk", filter=since & Q(met=True))
        counts[f"days{days}"] = Count("pk", filter=since)
    rows = (
        DeadlineDay.objects.filter(
            backend__in=backend_ids, day__gt=today - timedelta(days=max(RATE_DAYS))
        )
        .values_list("backend_id", "definition_id")
        .annotate(**counts)
    )
    each = []
    for backend, definition, *counted in rows:  # met and decided, for each RATE_DAYS in turn
        pairs = zip(counted[::2], counted[1::2], strict=True)
        each.append(Kept(backend, definition, dict(zip(RATE_DAYS, pairs, strict=True))))
    team = Kept(
        None,
        "",
        {
            d: (sum(k.rates[d][0] for k in each), sum(k.rates[d][1] for k in each))
            for d in RATE_DAYS
        },
    )
    worst = sorted(each, key=lambda kept: (kept.rate(30) is None, kept.rate(30) or 0))
    return team, worst[:WORST_SHOWN]

"""Definitions' schedules as their vendors give them: EnOS's `freq` and DataArts' job cron
(Quartz, 6 or 7 fields), Airflow's cron or preset (@daily). Read with croniter in the
backend's zone; anything it cannot read (an Airflow dataset or timedelta schedule) is no
schedule. A definition without one has its schedule learned from its runs' starts, as a
cron where one can say it."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import islice, pairwise, takewhile
from typing import NamedTuple
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from . import zones
from .connectors.base import RunRecord
from .models import CRON_LENGTH, Backend, Instance, Rollup, Schedule

MOST_TIMES = 1500  # a window's expected runs at most (a minutely job over a day: 1,440)
HISTORY = 12  # a definition's last starts its schedule is learned from
LEARN_FROM = timedelta(days=35)  # definitions that ran within it (a monthly one has)
MOST_LEARNED = 2_000  # definitions a backend learns schedules for, a sweep
QUARTZ_WEEKDAY = re.compile(r"(?<![#/\d])\d+")  # a day of the week, not an nth (#3) or a step


def cron_of(expression: str) -> str | None:
    """The expression as croniter reads it, or None: Quartz's seconds and year fields are
    kept, its days of the week (1 = Sunday) counted from 0 as Unix cron does. One longer than
    its column is none: kept in the poll's transaction, it would fail the page."""
    if len(expression) > CRON_LENGTH:
        return None
    fields = expression.split()
    if len(fields) in (6, 7):
        fields[5] = QUARTZ_WEEKDAY.sub(lambda day: str(int(day.group()) - 1), fields[5])
    cron = " ".join(fields)
    try:
        croniter(cron, second_at_beginning=True)
    except (ValueError, KeyError, TypeError):
        return None
    return cron


class Fired(NamedTuple):
    at: datetime  # in UTC: compared with now, and with runs' times, at full speed
    day: date  # its day in the schedule's zone, as its calendar reads it


@lru_cache(maxsize=50_000)
def fired_in(cron: str, start: float, end: float, zone_name: str) -> tuple[Fired, ...]:
    """When the schedule fires in [start, end) (timestamps), in the zone (daylight saving as
    croniter has it). Kept per process (by plain keys: an aware datetime hashes slowly):
    croniter takes ~0.5 ms a schedule, and a day's times do not change."""
    zone = ZoneInfo(zone_name)
    fired = croniter(cron, datetime.fromtimestamp(start, zone), second_at_beginning=True)
    # croniter's first is after its start: one second back makes `start` itself count
    fired.set_current(start - 1, force=True)
    kept = takewhile(lambda at: at.timestamp() < end, islice(firing(fired), MOST_TIMES))
    return tuple(Fired(at.astimezone(UTC), at.date()) for at in kept)


def after(cron: str, moment: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    """When the schedule fires after `moment`, one time after another."""
    return firing(croniter(cron, moment.astimezone(zone), second_at_beginning=True))


def firing(fired: croniter) -> Iterator[datetime]:
    """Its times one after another, until it fires no more: a Quartz year gone by (a one-off
    EnOS schedule), a 30 February."""
    try:
        while True:
            yield fired.get_next(datetime)
    except CroniterBadDateError:
        return


def note(backend: Backend, records: list[RunRecord], now: datetime) -> None:
    """Keep the schedule each top-level record gives, the newest seen per definition."""
    kept = {
        r.definition_id: Schedule(
            backend=backend,
            definition_id=r.definition_id,
            definition_name=(r.definition_name or r.name)[:500],
            cron=cron,
            seen_at=now,
        )
        for r in records
        if r.parent_id is None and r.schedule and (cron := cron_of(r.schedule))
    }
    if kept:
        Schedule.objects.bulk_create(
            list(kept.values()),
            update_conflicts=True,
            unique_fields=["backend", "definition_id"],
            update_fields=["definition_name", "cron", "learned", "seen_at"],
        )


class Scheduled(NamedTuple):
    backend_id: int
    definition_id: str
    definition_name: str
    cron: str


def of(backend_ids: list[int]) -> list[Scheduled]:
    """The backends' schedules, as plain rows: a team's thousands are read on each page."""
    rows = Schedule.objects.filter(backend__in=backend_ids).order_by("pk")
    fields = ("backend_id", "definition_id", "definition_name", "cron")
    return [Scheduled(*row) for row in rows.values_list(*fields)]


def learn(backend: Backend, now: datetime) -> int:
    """Schedules for the backend's definitions that ran lately and whose vendor gives none,
    from their last starts, where the interval is one a cron can say (every 1-30 minutes or
    1-12 hours dividing the hour or day, daily, weekly); how many it keeps. A definition that
    keeps no schedule any more loses its learned one."""
    given = Schedule.objects.filter(backend=backend, learned=False).values("definition_id")
    recent = Rollup.objects.filter(backend=backend, top_level=True, hour__gte=now - LEARN_FROM)
    definitions = recent.exclude(definition_id__in=given).exclude(definition_id="")
    zone = zones.zone(backend.timezone) or ZoneInfo("UTC")
    kept = []
    for definition, latest in last_starts(backend, definitions).items():
        every = usual_interval([run_at for run_at, _ in latest])
        if every and (cron := cron_for(every, latest[0][0].astimezone(zone))):
            kept.append(
                Schedule(
                    backend=backend,
                    definition_id=definition,
                    definition_name=latest[0][1][:500],
                    cron=cron,
                    learned=True,
                    seen_at=now,
                )
            )
    Schedule.objects.filter(backend=backend, learned=True).exclude(
        definition_id__in=[s.definition_id for s in kept]
    ).delete()
    Schedule.objects.bulk_create(
        kept,
        update_conflicts=True,
        unique_fields=["backend", "definition_id"],
        update_fields=["definition_name", "cron", "learned", "seen_at"],
    )
    return len(kept)


def last_starts(backend: Backend, definitions) -> dict[str, list[tuple[datetime, str]]]:
    """Each definition's last HISTORY starts (newest first) and its name, in one query."""
    wanted = list(definitions.values_list("definition_id", flat=True).distinct()[:MOST_LEARNED])
    newest = Window(RowNumber(), partition_by=F("definition_id"), order_by=F("run_at").desc())
    rows = (
        Instance.objects.filter(backend=backend, parent__isnull=True, definition_id__in=wanted)
        .annotate(newest=newest)
        .filter(newest__lte=HISTORY)
        .order_by("definition_id", "-run_at")
        .values_list("definition_id", "run_at", "definition_name", "name")
    )
    starts: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for definition, run_at, definition_name, name in rows:
        starts[definition].append((run_at, definition_name or name))
    return starts


def usual_interval(starts: list[datetime]) -> timedelta | None:
    """A definition's interval from its last starts (newest first): the median of the gaps,
    if they keep it (at least 3 alike, within 10 %)."""
    gaps = [later - earlier for later, earlier in pairwise(starts)]
    if len(gaps) < 3:
        return None
    interval = timedelta(seconds=statistics.median(g.total_seconds() for g in gaps))
    regular = [g for g in gaps if abs(g - interval) <= interval * 0.1]
    return interval if interval and len(regular) >= 3 else None


def cron_for(every: timedelta, last: datetime) -> str | None:
    """The cron of a run every `every` whose last start was `last` (in its zone), if a cron
    can say it: to the whole minute."""
    minutes = round(every.total_seconds() / 60)
    if 0 < minutes < 60 and 60 % minutes == 0:
        return f"0 {last.minute % minutes}/{minutes} * * * *"
    hours, rest = divmod(minutes, 60)
    if rest or not hours:
        return None
    if hours < 24 and 24 % hours == 0:
        return f"0 {last.minute} {last.hour % hours}/{hours} * * *"
    if hours == 24:
        return f"0 {last.minute} {last.hour} * * *"
    if hours == 24 * 7:
        return f"0 {last.minute} {last.hour} * * {last.isoweekday() % 7}"
    return None

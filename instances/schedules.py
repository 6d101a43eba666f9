"""Definitions' schedules as their vendors give them: EnOS's `freq` (a 7-field Quartz cron),
Airflow's cron or preset (@daily), DataArts' job cron (Quartz). Read with croniter in the
backend's zone; anything it cannot read (an Airflow dataset or timedelta schedule) is no
schedule, and the ledger learns one from the runs instead."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import lru_cache
from itertools import takewhile
from typing import NamedTuple
from zoneinfo import ZoneInfo

from croniter import croniter

from .connectors.base import RunRecord
from .models import Backend, Schedule

MOST_TIMES = 1500  # a window's expected runs at most (a minutely job over a day: 1,440)
QUARTZ_WEEKDAY = re.compile(r"(?<![#/\d])\d+")  # a day of the week, not an nth (#3) or a step


def cron_of(expression: str) -> str | None:
    """The expression as croniter reads it, or None: Quartz's seconds and year fields are
    kept, its days of the week (1 = Sunday) counted from 0 as Unix cron does."""
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


def times(cron: str, start: datetime, end: datetime, zone: ZoneInfo) -> tuple[Fired, ...]:
    """When the schedule fires in [start, end), in `zone` (daylight saving as croniter has it)."""
    return fired_in(cron, start.timestamp(), end.timestamp(), zone.key)


@lru_cache(maxsize=50_000)
def fired_in(cron: str, start: float, end: float, zone_name: str) -> tuple[Fired, ...]:
    """Kept per process (by plain keys: an aware datetime hashes slowly): croniter takes
    ~0.5 ms a schedule, and a day's times do not change."""
    zone = ZoneInfo(zone_name)
    fired = croniter(cron, datetime.fromtimestamp(start, zone), second_at_beginning=True)
    # croniter's first is after its start: one second back makes `start` itself count
    fired.set_current(start - 1, force=True)
    upcoming = (fired.get_next(datetime) for _ in range(MOST_TIMES))
    kept = takewhile(lambda at: at.timestamp() < end, upcoming)
    return tuple(Fired(at.astimezone(UTC), at.date()) for at in kept)


def after(cron: str, moment: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    """When the schedule fires after `moment`, one time after another."""
    return croniter(cron, moment.astimezone(zone), second_at_beginning=True).all_next(datetime)


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
            update_fields=["definition_name", "cron", "seen_at"],
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

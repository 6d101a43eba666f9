"""Working days of the calendars a missing rule can follow: every day, Monday to Friday, or
China's statutory calendar (public holidays off, make-up working days, 调休, on) from the
maintained `chinesecalendar` package; a team's own closed days are off in each. A year the
package does not cover yet is read as Monday to Friday, and said so, never an error."""

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from datetime import date, datetime
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar.constants import holidays
from django.utils.translation import gettext as _

from instances import zones

EVERY_DAY, WEEKDAYS, CHINA = "", "weekdays", "cn"
CHINA_YEARS = range(min(holidays).year, max(holidays).year + 1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
STEPS = 1000  # schedule intervals passed at most over closed days (an hourly job: 41 days)


def covers(calendar: str, year: int) -> bool:
    return calendar != CHINA or year in CHINA_YEARS


@lru_cache(maxsize=10_000)
def is_working_day(day: date, calendar: str, closed: AbstractSet[date] = frozenset()) -> bool:
    """Whether runs are expected on `day`: a team's own closed days are off in every calendar."""
    if day in closed:
        return False
    if calendar == CHINA and covers(CHINA, day.year):
        return chinese_calendar.is_workday(day)
    if calendar in (WEEKDAYS, CHINA):  # China's year not published yet: weekends only
        return day.weekday() < 5
    return True


def warning(calendar: str, year: int) -> str:
    if covers(calendar, year):
        return ""
    return _("China's working days of {year} are not known yet: weekends only").format(year=year)


def zone_of(calendar: str, backend_zone: str) -> ZoneInfo:
    """Where a day begins: the backend's zone, else China's for its calendar, else UTC."""
    return zones.zone(backend_zone) or (SHANGHAI if calendar == CHINA else ZoneInfo("UTC"))


def next_working(
    moments: Iterable[datetime],
    calendar: str,
    zone: ZoneInfo,
    closed: AbstractSet[date] = frozenset(),
) -> datetime | None:
    """The first of a schedule's moments that falls on a working day in `zone`; None past
    STEPS of them."""
    for moment in islice(moments, STEPS):
        if is_working_day(moment.astimezone(zone).date(), calendar, closed):
            return moment
    return None

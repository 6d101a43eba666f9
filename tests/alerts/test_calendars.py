"""A missing rule that follows a calendar expects runs on its working days only: China's
statutory calendar (2026, the newest year chinesecalendar covers: the Spring Festival holiday
of 15-23 February and its make-up Saturdays, 14 and 28 February), Monday to Friday, or every
day; a year the package does not cover yet is read as Monday to Friday, with a warning."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from instances import calendars
from instances.alerts import checks
from instances.alerts.models import Alert, AlertRule
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI)


def daily_on_working_days(backend, first: date, last: date, calendar: str) -> None:
    """A job that ran at 06:00 on each of the calendar's working days from first to last."""
    day = first
    while day <= last:
        if calendars.is_working_day(day, calendar):
            InstanceFactory(
                backend=backend, definition_id="daily", name="daily load", run_at=at(day, 6)
            )
        day += timedelta(days=1)


@pytest.fixture
def backend():
    return BackendFactory(name="EnOS prod", timezone="Asia/Shanghai")


def missing_rule(backend, calendar: str) -> AlertRule:
    return AlertRule.objects.create(
        team=backend.team,
        name="daily on time",
        kind="missing",
        definition_id="daily",
        grace_minutes=30,
        calendar=calendar,
    )


def test_the_package_knows_2026s_holiday_and_make_up_days():
    assert calendars.covers(calendars.CHINA, 2026)
    assert not calendars.is_working_day(date(2026, 2, 16), calendars.CHINA)  # a Monday
    assert calendars.is_working_day(date(2026, 2, 14), calendars.CHINA)  # a Saturday
    assert not calendars.is_working_day(date(2026, 2, 14), calendars.WEEKDAYS)


def test_a_run_missed_on_a_make_up_saturday_alerts(backend):
    daily_on_working_days(backend, date(2026, 1, 26), date(2026, 2, 13), calendars.CHINA)
    missing_rule(backend, calendars.CHINA)
    checks.check_missing(backend, at(date(2026, 2, 14), 7))  # 06:00 passed: none started
    alert = Alert.objects.get(state="firing")
    assert "2026-02-13 22:00 UTC" in alert.error_line  # 06:00 in Shanghai, that Saturday


@pytest.mark.parametrize(
    "calendar, alerts",
    [(calendars.CHINA, 0), (calendars.WEEKDAYS, 1), (calendars.EVERY_DAY, 1)],
    ids=["china: a holiday", "weekdays: not on Monday", "every day: not on Sunday"],
)
def test_no_run_on_a_statutory_holiday_is_expected(backend, calendar, alerts):
    daily_on_working_days(backend, date(2026, 1, 26), date(2026, 2, 14), calendars.CHINA)
    missing_rule(backend, calendar)
    for day in range(15, 24):  # each day of the holiday, an hour after the usual start
        checks.check_missing(backend, at(date(2026, 2, day), 7))
    assert Alert.objects.count() == alerts


def test_a_year_the_package_does_not_cover_is_read_as_weekdays_and_said(
    backend, client, monkeypatch
):
    assert not calendars.covers(calendars.CHINA, 2027)
    daily_on_working_days(backend, date(2027, 1, 25), date(2027, 2, 12), calendars.CHINA)
    missing_rule(backend, calendars.CHINA)
    checks.check_missing(backend, at(date(2027, 2, 13), 9))  # a Saturday: not expected
    checks.check_missing(backend, at(date(2027, 2, 14), 9))  # a Sunday
    assert not Alert.objects.exists()
    checks.check_missing(backend, at(date(2027, 2, 15), 9))  # a Monday, none ran: missing
    assert Alert.objects.filter(state="firing").count() == 1

    frozen = at(date(2027, 3, 1), 9)
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    client.force_login(UserFactory(is_staff=True, teams=[backend.team]))
    page = client.get("/alerts/channels/").content.decode()
    assert "China&#x27;s working days of 2027 are not known yet: weekends only" in page
    assert "China&#x27;s working days (holidays and make-up days)" in page


def test_a_day_the_team_closes_expects_no_run_until_opened_again(backend, client):
    daily_on_working_days(backend, date(2026, 2, 24), date(2026, 2, 27), calendars.CHINA)
    missing_rule(backend, calendars.CHINA)
    viewer = UserFactory(teams=[backend.team])
    client.force_login(viewer)
    closing = {"action": "close", "day": "2026-02-28", "note": "机房搬迁 <b>"}
    assert client.post(f"/teams/{backend.team.pk}/manage", closing).status_code == 404
    client.force_login(UserFactory(is_staff=True, teams=[backend.team]))  # a team admin
    client.post(f"/teams/{backend.team.pk}/manage", closing)
    closed = backend.team.closed_days.get()
    assert str(closed.day) == "2026-02-28" and closed.note == "机房搬迁 <b>"
    checks.check_missing(backend, at(date(2026, 2, 28), 7))  # a make-up Saturday, closed
    assert not Alert.objects.exists()
    client.post(f"/teams/{backend.team.pk}/manage", {"action": "reopen", "closed_day": closed.pk})
    checks.check_missing(backend, at(date(2026, 2, 28), 7))
    assert Alert.objects.filter(state="firing").count() == 1

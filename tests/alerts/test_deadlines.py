"""A definition that must succeed by 06:30 in Shanghai on China's working days: late once the
deadline passes without a success that day (not before, not on a holiday), resolved when the
success comes, saying how late; on time, nothing is said."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from instances import calendars, rollups
from instances.alerts import deadlines
from instances.alerts.models import Alert, AlertEvent, AlertRule, DeadlineDay
from instances.models import Instance, Status
from tests.factories import BackendFactory, InstanceFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


@pytest.fixture
def backend():
    backend = BackendFactory(name="EnOS prod", timezone="Asia/Shanghai")
    AlertRule.objects.create(
        team=backend.team,
        name="orders by 06:30",
        kind="late",
        definition_id="orders",
        deadline=time(6, 30),
        calendar=calendars.CHINA,
    )
    return backend


def run_of(backend, day: date, finished: datetime | None) -> Instance:
    return InstanceFactory(
        backend=backend,
        definition_id="orders",
        name="nightly orders",
        run_at=at(day, 5),
        status=Status.SUCCEEDED if finished else Status.RUNNING,
        finished_at=finished,
    )


def test_late_after_the_deadline_then_resolved_by_the_success(backend):
    day = date(2026, 2, 24)  # a Tuesday, the first working day after the Spring Festival
    run = run_of(backend, day, None)
    deadlines.check_late(backend, at(day, 6, 20))
    assert not Alert.objects.exists()  # not due yet
    deadlines.check_late(backend, at(day, 6, 31))
    alert = Alert.objects.get(state="firing")
    assert alert.title == "nightly orders missed its 06:30 Asia/Shanghai deadline on EnOS prod"
    assert alert.error_line == "no success by 06:30 Asia/Shanghai on 2026-02-24"
    deadlines.check_late(backend, at(day, 6, 40))
    assert Alert.objects.count() == 1  # checked again: the same alert
    Instance.objects.filter(pk=run.pk).update(status=Status.SUCCEEDED, finished_at=at(day, 6, 50))
    deadlines.check_late(backend, at(day, 6, 55))
    alert.refresh_from_db()
    assert alert.state == "resolved"
    assert AlertEvent.objects.get(alert=alert, what="resolved").note == (
        "it succeeded 20 min after its deadline"
    )


def test_on_time_or_on_a_holiday_nothing_is_said(backend):
    run_of(backend, date(2026, 2, 25), at(date(2026, 2, 25), 6, 10))  # on time
    deadlines.check_late(backend, at(date(2026, 2, 25), 9))
    deadlines.check_late(backend, at(date(2026, 2, 17), 9))  # the holiday: nothing ran
    assert not Alert.objects.exists()
    deadlines.check_late(backend, at(date(2026, 2, 28), 9))  # a make-up Saturday: due
    assert Alert.objects.get().key == "late:orders:2026-02-28"


def test_a_success_of_yesterday_does_not_count_for_today(backend):
    yesterday = date(2026, 2, 26)
    run_of(backend, yesterday, at(yesterday, 6) + timedelta(minutes=5))
    deadlines.check_late(backend, at(yesterday + timedelta(days=1), 7))
    assert Alert.objects.get(state="firing").key == "late:orders:2026-02-27"


def test_each_working_day_is_kept_for_the_rates_of_the_definitions_the_rule_is_about(backend):
    rule = AlertRule.objects.get(name="orders by 06:30")
    AlertRule.objects.filter(pk=rule.pk).update(definition_id="", owner="ops")
    run_of(backend, date(2026, 2, 25), at(date(2026, 2, 25), 6, 10))  # owned by someone else
    InstanceFactory(
        backend=backend,
        definition_id="stock",
        owner="ops",
        run_at=at(date(2026, 2, 25), 5),
        status=Status.SUCCEEDED,
        finished_at=at(date(2026, 2, 25), 6, 50),
    )
    rollups.rebuild()
    deadlines.check_late(backend, at(date(2026, 2, 25), 9))
    deadlines.check_late(backend, at(date(2026, 2, 25), 9, 1))  # again: written once
    days = DeadlineDay.objects.values_list("definition_id", "met", "succeeded_at")
    assert list(days) == [("stock", False, at(date(2026, 2, 25), 6, 50))]

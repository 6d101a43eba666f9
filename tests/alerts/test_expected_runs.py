"""The expected-run ledger follows the vendor's own schedule: EnOS's Quartz `freq` and
Airflow's cron are kept from the runs a poll reads, read with croniter in the backend's zone,
and judged on China's 2026 calendar (the Spring Festival holiday of 15-23 February and its
make-up Saturdays, 14 and 28 February), with a frozen clock."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from instances import calendars, ledger, schedules, sync
from instances.alerts import checks
from instances.alerts.models import Alert, AlertRule
from instances.ledger import State
from instances.management.commands.demo_setup import demo_backends
from instances.models import Backend, Schedule, Status
from tests.factories import BackendFactory, InstanceFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKING_DAYS_AT_SIX = "0 0 6 ? * 2-6 *"  # Quartz: Monday (2) to Friday (6), 06:00:00
EVERY_DAY_AT_SIX = "0 0 6 * * ? *"  # with China's calendar: its working days, 调休 too


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def test_quartz_weekdays_count_from_sunday_as_one():
    assert schedules.cron_of(WORKING_DAYS_AT_SIX) == "0 0 6 ? * 1-5 *"
    assert schedules.cron_of("0 0 6 ? * 6#3") == "0 0 6 ? * 5#3"  # the 3rd Friday
    assert schedules.cron_of("0 6 * * 1-5") == "0 6 * * 1-5"  # Unix cron as it is
    assert schedules.cron_of("@daily") == "@daily"
    too_long = "0 0 " + ",".join(str(h % 24) for h in range(100)) + " * * ?"
    for not_a_cron in ("None", "Dataset", "", "0 0 6 ? * 9 *", "<script>", too_long):
        assert schedules.cron_of(not_a_cron) is None
    week = schedules.fired_in(
        schedules.cron_of(WORKING_DAYS_AT_SIX),
        at(date(2026, 3, 2), 0).timestamp(),
        at(date(2026, 3, 9), 0).timestamp(),
        SHANGHAI.key,
    )
    assert [fired.day.isoweekday() for fired in week] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("kind", ["enos_batch_v21", "airflow", "dataarts_factory"])
def test_a_polls_runs_leave_their_vendors_schedule(kind, emulator):
    backend, secrets = next((b, s) for b, s in demo_backends() if b.kind == kind)
    backend.base_url, backend.credentials = emulator.base_url, secrets
    backend.save()
    assert sync.poll_backend(backend.pk).outcome == "ok"
    kept = Schedule.objects.filter(backend=backend)
    assert kept.exists()
    for schedule in kept:
        assert schedules.cron_of(schedule.cron) == schedule.cron and schedule.definition_name
        run = backend.instances.filter(parent__isnull=True, definition_id=schedule.definition_id)
        assert run.exists()


@pytest.fixture
def backend():
    backend = BackendFactory(name="EnOS prod", timezone="Asia/Shanghai")
    Schedule.objects.create(
        backend=backend,
        definition_id="daily",
        definition_name="daily load",
        cron=EVERY_DAY_AT_SIX,
        seen_at=timezone.now(),
    )
    return backend


def follows_china(backend: Backend, **extra) -> AlertRule:
    return AlertRule.objects.create(
        team=backend.team,
        name="daily on China's days",
        kind="missing",
        definition_id="daily",
        grace_minutes=30,
        calendar=calendars.CHINA,
        **extra,
    )


def day_of(backend: Backend, day: date, now: datetime) -> list[ledger.Expected]:
    start = at(day, 0)
    return ledger.day([backend], start, start + timedelta(days=1), now)


def test_a_working_days_job_is_not_expected_on_a_holiday_and_expected_on_a_make_up_saturday(
    backend,
):
    follows_china(backend)
    holiday = day_of(backend, date(2026, 2, 16), at(date(2026, 2, 16), 12))  # a Monday
    assert [e.state for e in holiday] == [State.NOT_EXPECTED]
    saturday = date(2026, 2, 14)
    assert [e.state for e in day_of(backend, saturday, at(saturday, 5))] == [State.UPCOMING]
    run = InstanceFactory(
        backend=backend, definition_id="daily", status=Status.SUCCEEDED, run_at=at(saturday, 6)
    )
    judged = day_of(backend, saturday, at(saturday, 12))
    assert [(e.state, e.run and e.run.pk) for e in judged] == [(State.ON_TIME, run.pk)]
    missed = day_of(backend, date(2026, 2, 28), at(date(2026, 2, 28), 12))
    assert [e.state for e in missed] == [State.MISSED]
    sunday = day_of(backend, date(2026, 3, 1), at(date(2026, 3, 1), 12))
    assert [e.state for e in sunday] == [State.NOT_EXPECTED]


def test_a_year_the_calendar_does_not_know_is_read_as_weekdays_with_a_warning(backend):
    follows_china(backend)
    year = max(calendars.CHINA_YEARS) + 1
    saturday = next(d for d in (date(year, 1, n) for n in range(1, 8)) if d.weekday() == 5)
    judged = day_of(backend, saturday, at(saturday, 12))
    assert [e.state for e in judged] == [State.NOT_EXPECTED]
    monday = saturday + timedelta(days=2)
    assert [e.state for e in day_of(backend, monday, at(monday, 12))] == [State.MISSED]
    assert str(year) in calendars.warning(calendars.CHINA, year)


def test_the_missing_rule_follows_the_vendors_cron_and_the_calendar(backend):
    """A daily cron on China's days: the holiday's silence is quiet, the make-up Saturday's
    is an alert (the learned schedule would not know either)."""
    rule = follows_china(backend)
    for worked in (date(2026, 2, 13), date(2026, 2, 14)):  # a Friday, a make-up Saturday
        InstanceFactory(backend=backend, definition_id="daily", run_at=at(worked, 6))
    checks.check_missing(backend, at(date(2026, 2, 20), 12))  # a week of holiday, silent
    assert not Alert.objects.filter(rule=rule).exists()
    InstanceFactory(backend=backend, definition_id="daily", run_at=at(date(2026, 2, 24), 6))
    InstanceFactory(backend=backend, definition_id="daily", run_at=at(date(2026, 2, 27), 6))
    checks.check_missing(backend, at(date(2026, 2, 28), 6, 20))  # within its grace
    assert not Alert.objects.filter(rule=rule).exists()
    checks.check_missing(backend, at(date(2026, 2, 28), 6, 45))
    alert = Alert.objects.get(rule=rule)
    assert alert.state == Alert.State.FIRING and "2026-02-27 22:00" in alert.error_line


def test_each_expected_run_is_matched_and_judged_against_its_deadline(backend):
    Schedule.objects.filter(backend=backend).update(cron="0 0 6,12,18 * * ?")
    follows_china(backend)
    AlertRule.objects.create(
        team=backend.team, name="by 13:00", kind="late", deadline=time(13), calendar="cn"
    )
    day = date(2026, 3, 3)
    InstanceFactory(
        backend=backend,
        definition_id="daily",
        status=Status.SUCCEEDED,
        run_at=at(day, 6),
        started_at=at(day, 6),
        finished_at=at(day, 13, 30),
    )
    running = InstanceFactory(
        backend=backend,
        definition_id="daily",
        status=Status.RUNNING,
        run_at=at(day, 12),
        started_at=at(day, 12, 1),
    )
    judged = day_of(backend, day, at(day, 14))
    assert [(e.at, e.state) for e in judged] == [
        (at(day, 6), State.LATE),
        (at(day, 12), State.RUNNING_LATE),
        (at(day, 18), State.UPCOMING),
    ]
    assert judged[1].run.pk == running.pk and judged[1].deadline == at(day, 13)


def test_a_definition_no_vendor_schedules_has_its_schedule_learned_as_a_cron(backend):
    from instances import rollups

    def ran_every(definition: str, first: datetime, every: timedelta, times: int) -> None:
        for n in range(times):
            InstanceFactory(backend=backend, definition_id=definition, run_at=first + n * every)

    ran_every("nightly", at(date(2026, 3, 2), 6), timedelta(days=1), 6)
    ran_every("quarterly", at(date(2026, 3, 7), 0, 15), timedelta(minutes=15), 8)
    ran_every("hourly", at(date(2026, 3, 7), 0, 5), timedelta(hours=1), 8)
    ran_every("odd", at(date(2026, 3, 2), 6), timedelta(hours=7), 8)  # no cron says it
    ran_every("daily", at(date(2026, 3, 2), 9), timedelta(hours=5), 8)  # its vendor's stays
    rollups.rebuild()
    now = at(date(2026, 3, 7), 12)
    assert schedules.learn(backend, now) == 3
    kept = dict(Schedule.objects.filter(backend=backend).values_list("definition_id", "cron"))
    assert kept == {
        "daily": EVERY_DAY_AT_SIX,
        "nightly": "0 0 6 * * *",  # in the backend's zone, Shanghai
        "quarterly": "0 0/15 * * * *",
        "hourly": "0 5 0/1 * * *",
    }
    expected = day_of(backend, date(2026, 3, 8), at(date(2026, 3, 8), 7))
    nightly = [e for e in expected if e.schedule.definition_id == "nightly"]
    assert [(e.at, e.state) for e in nightly] == [(at(date(2026, 3, 8), 6), State.MISSED)]
    later = at(date(2026, 3, 7), 7, 5)
    for gap in (7, 13, 29, 3, 17, 41, 11, 23, 5, 37, 19):  # hourly no more: its schedule goes
        later += timedelta(minutes=gap)
        InstanceFactory(backend=backend, definition_id="hourly", run_at=later)
    schedules.learn(backend, now)
    assert set(Schedule.objects.values_list("definition_id", flat=True)) == {
        "daily",
        "nightly",
        "quarterly",
    }


def test_a_schedule_that_fires_no_more_expects_nothing_and_breaks_nothing(backend):
    """A one-off EnOS schedule of a year gone by, a 30 February: no expected run, no error."""
    rule = follows_china(backend)
    InstanceFactory(backend=backend, definition_id="daily", run_at=at(date(2026, 3, 2), 6))
    for gone in ("0 0 6 15 3 ? 2025", "0 0 6 30 2 ?"):
        Schedule.objects.filter(backend=backend).update(cron=schedules.cron_of(gone))
        assert day_of(backend, date(2026, 3, 3), at(date(2026, 3, 3), 12)) == []
        checks.check_missing(backend, at(date(2026, 3, 9), 12))
        assert not Alert.objects.filter(rule=rule).exists()

"""A data product: definitions on two platforms that together make the morning report, due
by 08:00 in Shanghai. One alert while any of them has not succeeded by then, naming those;
resolved when the last one succeeds; nothing before the deadline, on a holiday, or while one
of its backends is stale. Each definition's day is kept for the deadline rates, and Today
holds each of them to the product's deadline."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from instances import calendars, ledger
from instances.alerts import deadlines
from instances.alerts.models import Alert, AlertRule, DeadlineDay
from instances.models import DataProduct, Instance, Schedule, Status
from tests.factories import BackendFactory, InstanceFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 2, 24)  # a Tuesday, a working day after the Spring Festival


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


@pytest.fixture
def report():
    enos = BackendFactory(name="EnOS prod", timezone="Asia/Shanghai")
    airflow = BackendFactory(name="Airflow", timezone="UTC", team=enos.team)
    product = DataProduct.objects.create(team=enos.team, name="morning report")
    product.parts.create(backend=enos, definition_id="orders")
    product.parts.create(backend=airflow, definition_id="stock")
    rule = AlertRule.objects.create(
        team=enos.team,
        name="report by 08:00",
        kind="late",
        product=product,
        deadline=time(8),
        deadline_zone="Asia/Shanghai",
        calendar=calendars.CHINA,
    )
    return rule, enos, airflow


def run(backend, definition: str, day: date, finished: datetime | None) -> Instance:
    return InstanceFactory(
        backend=backend,
        definition_id=definition,
        name=f"nightly {definition}",
        run_at=at(day, 5),
        started_at=at(day, 5),
        status=Status.SUCCEEDED if finished else Status.RUNNING,
        finished_at=finished,
    )


def test_one_alert_while_any_part_has_not_succeeded_then_resolved_by_the_last(report):
    rule, enos, airflow = report
    fresh = {enos.pk, airflow.pk}
    run(enos, "orders", DAY, at(DAY, 6))
    stock = run(airflow, "stock", DAY, None)
    deadlines.check_product(rule, fresh, at(DAY, 7, 59))
    assert not Alert.objects.exists()  # not due yet
    for backend in (enos, airflow):
        deadlines.check_late(backend, at(DAY, 8, 1))  # the product's rule is not one a backend's
    assert not Alert.objects.exists()
    deadlines.check_product(rule, fresh, at(DAY, 8, 1))
    deadlines.check_product(rule, fresh, at(DAY, 8, 6))  # checked again: the same alert
    alert = Alert.objects.get(state="firing")
    assert alert.title == (
        "morning report missed its 08:00 Asia/Shanghai deadline: "
        "1 of 2 definitions have not succeeded"
    )
    assert alert.error_line == "no success by 08:00 Asia/Shanghai on 2026-02-24: stock (Airflow)"
    assert (alert.backend, alert.run) == (airflow, stock)  # on-call lands on the culprit
    Instance.objects.filter(pk=stock.pk).update(status=Status.SUCCEEDED, finished_at=at(DAY, 8, 40))
    deadlines.check_product(rule, fresh, at(DAY, 8, 45))
    alert.refresh_from_db()
    assert alert.state == "resolved"
    assert alert.events.last().note == "its last definition succeeded 40 min after its deadline"
    kept = DeadlineDay.objects.filter(rule=rule, day=DAY).order_by("definition_id")
    assert [(d.definition_id, d.met) for d in kept] == [("orders", True), ("stock", False)]


def test_all_in_time_nothing_said(report):
    rule, enos, airflow = report
    run(enos, "orders", DAY, at(DAY, 6))
    run(airflow, "stock", DAY, at(DAY, 7, 30))
    deadlines.check_product(rule, {enos.pk, airflow.pk}, at(DAY, 9))
    assert not Alert.objects.exists()
    assert DeadlineDay.objects.filter(rule=rule, met=True).count() == 2


def test_quiet_on_a_holiday_and_while_a_backend_is_stale(report):
    rule, enos, airflow = report
    holiday = date(2026, 2, 17)  # the Spring Festival
    deadlines.check_product(rule, {enos.pk, airflow.pk}, at(holiday, 9))
    assert not Alert.objects.exists()
    deadlines.check_product(rule, {enos.pk}, at(DAY, 9))  # Airflow stale: its runs unknown
    assert not Alert.objects.exists()
    deadlines.check_product(rule, {enos.pk, airflow.pk}, at(DAY, 9))
    assert Alert.objects.get().title.startswith("morning report missed")


def test_today_holds_each_part_to_the_products_deadline(report):
    _rule, enos, airflow = report
    for backend, definition in ((enos, "orders"), (airflow, "stock")):
        Schedule.objects.create(
            backend=backend, definition_id=definition, cron="0 0 5 * * ? *", seen_at=at(DAY, 0)
        )
    Schedule.objects.create(
        backend=enos, definition_id="other", cron="0 0 5 * * ? *", seen_at=at(DAY, 0)
    )
    start = at(DAY, 0)
    day = ledger.day([enos, airflow], start, start + timedelta(days=1), at(DAY, 9))
    due = {item.schedule.definition_id: item.deadline for item in day}
    assert due == {"orders": at(DAY, 8), "stock": at(DAY, 8), "other": None}

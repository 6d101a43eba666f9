"""Today: a team's expected runs of the day, by state; every number lists exactly its
expected runs, each linked to the run that came for it, and another team's never shows."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from instances.models import Instance, Schedule, Status
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # a Tuesday
TILE = re.compile(r'<a class="number[^"]*" href="\?(state=[a-z_]+)"[^>]*>.*?<strong>(\d+)</strong>')
ROW = re.compile(r'<tr data-state="([a-z_]+)">(.*?)</tr>')


def scheduled(backend, definition: str, cron: str) -> None:
    Schedule.objects.create(
        backend=backend,
        definition_id=definition,
        definition_name=f"{definition} load",
        cron=cron,
        seen_at=NOW,
    )


def ran(backend, definition: str, hour: int, status: str):
    start = NOW.replace(hour=hour)
    return InstanceFactory(
        backend=backend,
        definition_id=definition,
        status=status,
        run_at=start,
        started_at=start,
        finished_at=start + timedelta(minutes=20) if status != Status.RUNNING else None,
    )


@pytest.fixture
def day(client, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    mine = BackendFactory(name="mine", timezone="UTC")
    theirs = BackendFactory(name="theirs", timezone="UTC")
    client.force_login(UserFactory(teams=[mine.team]))
    scheduled(mine, "orders", "0 0 6,12,18 * * ?")
    scheduled(mine, "stock", "0 9 * * *")
    scheduled(mine, "prices", "0 0 13 * * ?")
    scheduled(theirs, "secret", "0 0 6 * * ?")
    runs = {
        "on_time": [ran(mine, "orders", 6, Status.SUCCEEDED)],
        "failed": [ran(mine, "orders", 12, Status.FAILED)],
        "running": [ran(mine, "prices", 13, Status.RUNNING)],
    }
    ran(theirs, "secret", 6, Status.FAILED)
    return runs


def tiles(page) -> dict[str, int]:
    return {query: int(n) for query, n in TILE.findall(page.content.decode())}


def test_every_number_lists_exactly_its_expected_runs(client, day):
    page = client.get("/today/")
    assert page.status_code == 200
    counts = tiles(page)
    assert counts == {
        "state=expected": 5,
        "state=on_time": 1,
        "state=late": 0,
        "state=running": 1,
        "state=running_late": 0,
        "state=failed": 1,
        "state=missed": 1,  # stock, due at 09:00, never came
        "state=due": 0,
        "state=upcoming": 1,  # orders at 18:00
        "state=not_expected": 0,
    }
    for query, n in counts.items():
        rows = ROW.findall(client.get(f"/today/?{query}").content.decode())
        assert len(rows) == n, query
        state = query.removeprefix("state=")
        assert all(state in (shown, "expected") for shown, _ in rows)
        linked = {int(pk) for _, cells in rows for pk in re.findall(r'href="/runs/(\d+)/"', cells)}
        runs = [run for runs in day.values() for run in runs] if n == 5 else day.get(state, [])
        assert linked == {run.pk for run in runs}, query
    body = page.content.decode()
    assert "secret" not in body and "theirs" not in body


def test_a_team_without_schedules_is_told_where_they_come_from(client):
    client.force_login(UserFactory(teams=[BackendFactory().team]))
    body = client.get("/today/").content.decode()
    assert "No scheduled definitions yet" in body


def test_deadlines_met_over_7_30_and_90_days_link_to_those_days_runs(client, day):
    from datetime import date

    from instances.alerts.models import AlertRule, DeadlineDay

    backend = day["on_time"][0].backend
    rule = AlertRule.objects.create(team=backend.team, name="by 09:00", kind="late")
    today = date(2026, 3, 3)
    for ago in range(60):  # missed every 4th day
        DeadlineDay.objects.create(
            rule=rule,
            backend=backend,
            definition_id="orders",
            day=today - timedelta(days=ago),
            met=ago % 4 != 0,
        )
    page = client.get("/today/")
    assert [(days, met, decided) for days, met, decided, _ in page.context["team_kept"]] == [
        (7, 5, 7),  # missed today and 4 days ago
        (30, 22, 30),
        (90, 45, 60),
    ]
    ((shown, definition, name, rows),) = page.context["kept"]
    assert (shown, definition, name) == (backend, "orders", "orders load")
    runs = client.get(f"/runs/{rows[0][3]}").content.decode()
    todays = {run.pk for runs in day.values() for run in runs}
    orders = {r.pk for r in Instance.objects.filter(definition_id="orders", backend=backend)}
    assert {int(pk) for pk in re.findall(r'href="/runs/(\d+)/', runs)} >= todays & orders
    body = page.content.decode()
    assert "71 %" in body and "5 of 7" in body

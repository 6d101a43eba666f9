"""The timeline across every platform: a reader's backends only, overlapping runs in lanes of
their own, a run begun before the window still drawn, failed runs marked, the teams'
deadlines as markers, names escaped, zoom and pan as links; counts per hour past the bars it
draws one by one."""

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from dashboard import fleet
from instances import rollups
from instances.alerts.models import AlertRule
from instances.models import DataProduct, Status
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
BAR = re.compile(r'<a href="/runs/(\d+)/"><rect class="bar (\w+)" x="[\d.]+%" y="(\d+)"')


def ran(backend, name: str, began: datetime, minutes: int | None, status=Status.SUCCEEDED):
    return InstanceFactory(
        backend=backend,
        name=name,
        definition_id=name,
        status=status,
        run_at=began,
        started_at=began,
        finished_at=began + timedelta(minutes=minutes) if minutes else None,
    )


@pytest.fixture
def fleet_of_two(client, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    mine = BackendFactory(name="EnOS prod", timezone="UTC")
    theirs = BackendFactory(name="their Airflow", timezone="UTC")
    client.force_login(UserFactory(teams=[mine.team]))
    runs = {
        "early": ran(mine, "load orders", NOW - timedelta(hours=3), 60),
        "overlapping": ran(
            mine, "<script>alert(1)</script>", NOW - timedelta(hours=2, minutes=30), 60
        ),
        "after": ran(mine, "load stock", NOW - timedelta(hours=1), 20, Status.FAILED),
        "next": ran(mine, "load prices", NOW - timedelta(minutes=80), 10),
        "still running": ran(mine, "backfill", NOW - timedelta(hours=30), None, Status.RUNNING),
        "long gone": ran(mine, "old", NOW - timedelta(hours=40), 10),
        "theirs": ran(theirs, "secret", NOW - timedelta(hours=2), 10),
    }
    AlertRule.objects.create(
        team=mine.team, name="orders by 10:00", kind="late", deadline=time(10), deadline_zone="UTC"
    )
    return runs


def test_the_readers_runs_in_lanes_with_failures_and_deadlines_marked(client, fleet_of_two):
    runs = fleet_of_two
    body = client.get("/timeline/").content.decode()
    bars = {int(pk): (status, int(y)) for pk, status, y in BAR.findall(body)}
    wanted = ("early", "overlapping", "after", "next", "still running")
    assert set(bars) == {runs[name].pk for name in wanted}
    lanes = {name: bars[runs[name].pk][1] for name in wanted}
    assert lanes["after"] == 2  # the failed run's lane on top
    assert lanes["early"] == lanes["next"] != lanes["overlapping"]  # free again, then reused
    assert bars[runs["after"].pk][0] == "FAILED"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    assert body.count('class="deadline"') == 1 and "orders by 10:00" in body
    assert "secret" not in body and "their Airflow" not in body


def test_zoom_and_pan_move_the_window_by_links(client, fleet_of_two):
    page = client.get("/timeline/?window=6h")
    assert page.context["fleet"].span == timedelta(hours=6)

    def window(link: str) -> tuple[datetime, datetime]:
        query = parse_qs(urlparse(link).query)
        return datetime.fromisoformat(query["since"][0]), datetime.fromisoformat(query["until"][0])

    assert window(page.context["earlier"]) == (NOW - timedelta(hours=9), NOW - timedelta(hours=3))
    assert window(page.context["zoom_in"]) == (
        NOW - timedelta(hours=4.5),
        NOW - timedelta(hours=1.5),
    )
    since, until = window(page.context["zoom_in"])
    zoomed = client.get(f"/timeline/{page.context['zoom_in']}")
    assert (zoomed.context["fleet"].start, zoomed.context["fleet"].end) == (since, until)
    bars = {int(pk) for pk, _, _ in BAR.findall(zoomed.content.decode())}
    assert bars == {fleet_of_two[name].pk for name in ("early", "overlapping", "still running")}


def test_past_its_bars_it_draws_counts_per_hour(client, fleet_of_two, monkeypatch):
    monkeypatch.setattr(fleet, "MOST_BARS", 2)
    rollups.rebuild()
    body = client.get("/timeline/").content.decode()
    assert "Zoom in to see each run" in body
    assert not BAR.findall(body)  # no run drawn alone
    hours = re.findall(r'<rect class="bar (\w+)"[^>]*><title>[^<]*</title>', body)
    assert hours == ["SUCCEEDED", "SUCCEEDED", "FAILED"]  # 09:00 (two runs), 10:00, 11:00


def test_by_team_one_band_a_team(client, fleet_of_two):
    page = client.get("/timeline/?by=team")
    assert [band.name for band in page.context["fleet"].bands] == [
        fleet_of_two["early"].backend.team.name
    ]


def test_each_band_marks_its_own_backends_deadlines(client, fleet_of_two):
    mine = fleet_of_two["early"].backend
    theirs = fleet_of_two["theirs"].backend
    client.force_login(UserFactory(teams=[mine.team, theirs.team]))
    bands = client.get("/timeline/").context["fleet"].bands
    marked = {band.name: [whose for _, whose in band.deadlines] for band in bands}
    assert marked == {"EnOS prod": ["orders by 10:00"], "their Airflow": []}


def test_a_full_band_still_draws_its_failed_run(client, fleet_of_two, monkeypatch):
    monkeypatch.setattr(fleet, "MOST_LANES", 1)
    page = client.get("/timeline/")
    drawn = {int(pk): status for pk, status, _ in BAR.findall(page.content.decode())}
    assert drawn == {fleet_of_two["after"].pk: "FAILED"}
    assert page.context["fleet"].bands[0].hidden == 4  # the others, counted


def test_by_data_product_a_band_a_product_with_its_deadline(client, fleet_of_two):
    mine = fleet_of_two["early"].backend
    report = DataProduct.objects.create(team=mine.team, name="morning report")
    for name in ("early", "after"):
        report.parts.create(backend=mine, definition_id=fleet_of_two[name].definition_id)
    AlertRule.objects.create(
        team=mine.team,
        name="report by 11:30",
        kind="late",
        product=report,
        deadline=time(11, 30),
        deadline_zone="UTC",
    )
    page = client.get("/timeline/?by=product")
    bands = {band.name: band for band in page.context["fleet"].bands}
    assert list(bands) == ["morning report", "—"]  # runs of no product last
    drawn = {int(pk) for pk, _, _ in BAR.findall(bands["morning report"].svg)}
    assert drawn == {fleet_of_two["early"].pk, fleet_of_two["after"].pk}
    assert [whose for _, whose in bands["morning report"].deadlines] == ["report by 11:30"]
    assert bands["—"].deadlines == []  # the backend's own rule is no product's
    by_backend = client.get("/timeline/").context["fleet"].bands[0]
    assert sorted(w for _, w in by_backend.deadlines) == ["orders by 10:00", "report by 11:30"]


def test_by_data_product_past_its_bars_each_product_counts_its_own_hours(
    client, fleet_of_two, monkeypatch
):
    mine = fleet_of_two["early"].backend
    report = DataProduct.objects.create(team=mine.team, name="morning report")
    report.parts.create(backend=mine, definition_id=fleet_of_two["after"].definition_id)
    monkeypatch.setattr(fleet, "MOST_BARS", 2)
    rollups.rebuild()
    bands = {b.name: b for b in client.get("/timeline/?by=product").context["fleet"].bands}
    assert fleet.hourly_total(bands["morning report"]) == 1  # its one failed run
    assert fleet.hourly_total(bands["—"]) == 3  # early, overlapping, next (begun in view)

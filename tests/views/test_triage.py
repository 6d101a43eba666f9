import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from dashboard import summaries
from instances import failures, rollups
from instances.models import Backend, Instance, Status
from instances.rollups import hour_of
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_teams(client):
    mine, theirs = BackendFactory(name="mine"), BackendFactory(name="theirs")
    client.force_login(UserFactory(teams=[mine.team]))
    now = timezone.now()
    for backend, failed in ((mine, 2), (theirs, 5)):
        for n in range(6):
            run = InstanceFactory(
                backend=backend,
                definition_id="nightly",
                definition_name="nightly load",
                status=Status.FAILED if n < failed else Status.SUCCEEDED,
                run_at=now - timedelta(hours=n),
                duration=timedelta(minutes=n),
            )
            InstanceFactory(
                backend=backend,
                parent=run,
                name="load step",
                definition_id="load",
                status=run.status,
                error_message="timeout after 3600 s on 10.0.0.7" if n < failed else "",
            )
    rollups.rebuild()
    return mine, theirs


def test_overview_counts_only_the_users_runs(client, two_teams):
    page = client.get("/")
    assert page.context["counts"]["FAILED"] == 2 and page.context["counts"]["SUCCEEDED"] == 4
    assert [b.name for b, _ in page.context["matrix"]] == ["mine"]
    assert page.context["worst"][0]["failed"] == 2
    # definitions by name (their id beside it), durations as people say them
    body = page.content.decode()
    assert "<bdi>nightly load</bdi></a> <small><code><bdi>nightly</bdi></code></small>" in body
    assert "<td>3 min / 5 min</td>" in body  # p50 / p95 of 0…5 minutes
    assert page.context["worst"][0]["p50"] == 180 and page.context["worst"][0]["p95"] == 300
    assert page.context["rate"] == pytest.approx(4 / 6)
    assert "status=FAILED" in page.content.decode()  # every number links to its runs


def test_overview_reads_rollups_in_a_fixed_number_of_queries(
    client, two_teams, django_assert_max_num_queries
):
    with django_assert_max_num_queries(16):
        client.get("/?window=30d")


def test_runs_chart_is_an_svg_image_whose_policy_runs_no_script(client, two_teams):
    chart = client.get("/charts/runs.svg?window=7d")
    assert chart["Content-Type"] == "image/svg+xml" and b"<svg" in chart.content
    policy = chart["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "Failed" in chart.content.decode()  # series are labelled, not only coloured


def test_inbox_groups_failures_by_definition_and_error_signature(client, two_teams):
    page = client.get("/failures/")
    (group,) = page.context["groups"]
    assert group["count"] == 2 and group["streak"] == 2
    InstanceFactory(backend=two_teams[0], definition_id="nightly", status=Status.RUNNING)
    (group,) = client.get("/failures/").context["groups"]
    assert group["streak"] == 2  # a run still going breaks no streak
    assert group["signature"] == "timeout after <n> s on <ip>" and group["kind"] == "timeout"
    assert group["child"].name == "load step"
    assert f"/runs/{group['child'].pk}/" in page.content.decode()


def test_a_success_between_failures_ends_the_streak_and_a_rerun_still_going_keeps_it(
    client, two_teams
):
    mine = two_teams[0]
    now = timezone.now()
    for hours, status in ((0.3, Status.SUCCEEDED), (0.5, Status.FAILED), (0.8, Status.RUNNING)):
        InstanceFactory(
            backend=mine,
            definition_id="nightly",
            status=status,
            error_message="timeout after 3600 s on 10.0.0.7",
            run_at=now + timedelta(hours=hours),
        )
    (group,) = client.get("/failures/").context["groups"]
    assert group["count"] == 3 and group["streak"] == 1


def test_each_inbox_groups_link_lists_exactly_its_runs(client, two_teams):
    mine = two_teams[0]
    now = timezone.now()
    for n, error in enumerate(["ORA-00942: table or view does not exist", "", ""]):
        run = InstanceFactory(
            backend=mine,
            definition_id="nightly",
            status=Status.FAILED,
            run_at=now - timedelta(minutes=10 + n),
        )
        InstanceFactory(backend=mine, parent=run, status=Status.FAILED, error_message=error)
    page = client.get("/failures/")
    groups = page.context["groups"]
    assert sorted(g["count"] for g in groups) == [1, 2, 2]  # timeout, ORA-, no message
    body = page.content.decode()
    for group in groups:
        signature = re.escape(quote(group["signature"]))
        link = re.search(
            rf'href="(/runs/\?[^"]*signature={signature})">{group["count"]}<',
            body.replace("&amp;", "&"),
        )
        assert link, group["signature"]
        listed = client.get(link.group(1)).context["rows"]
        alike = Instance.objects.filter(
            backend=group["backend"],
            status=Status.FAILED,
            definition_id=group["definition_id"],
            failure_signature=group["signature"],
        )
        assert len(listed) == group["count"] == alike.count() > 0, group["signature"]
        assert {r.pk for r in listed} == set(alike.values_list("pk", flat=True))
        # the list names the filter it came with, and offers to clear it
        listing = client.get(link.group(1)).content.decode()
        assert '<span class="chip">signature <code>' in listing and "Clear filters" in listing


def test_history_grid_is_steps_by_runs_and_hides_other_teams(client, two_teams):
    mine, theirs = two_teams
    page = client.get(f"/definitions/{mine.pk}/?id=nightly")
    assert len(page.context["runs"]) == 6
    ((step, cells),) = page.context["rows"]  # one step, aligned across the runs
    assert step == "load step" and len(cells) == 6
    assert page.context["rate"] == pytest.approx(4 / 6)
    assert client.get(f"/definitions/{theirs.pk}/?id=nightly").status_code == 404


def test_inbox_and_grid_cost_a_fixed_number_of_queries(
    client, two_teams, django_assert_max_num_queries
):
    mine = two_teams[0]
    failures.sign_unsigned(Instance.objects.all())  # as sync does when it stores them
    # grouping, the newest run per group and the streaks (one LATERAL walk) are three grouped
    # queries; each use of the member's scope reads their backends' ids first
    with django_assert_max_num_queries(15):
        client.get("/failures/")
    with django_assert_max_num_queries(10):
        client.get(f"/definitions/{mine.pk}/?id=nightly")


def test_overview_takes_a_custom_window_and_a_backend_scope(client, two_teams):
    mine, theirs = two_teams
    today = timezone.now().date()
    page = client.get(
        f"/?window=custom&start={today - timedelta(days=1)}&end={today}&backend={mine.pk}"
    )
    assert sum(page.context["counts"].values()) == 6
    nothing = client.get(f"/?backend={theirs.pk}")  # not theirs to see: no numbers at all
    assert sum(nothing.context["counts"].values()) == 0
    empty = client.get("/?window=custom&start=2020-01-01&end=2020-01-02")
    assert sum(empty.context["counts"].values()) == 0
    assert client.get("/?window=custom&start=2026-13-45&end=2026-02-30").status_code == 200


def test_inbox_points_at_the_canceled_step_when_no_step_failed(client, two_teams):
    run = InstanceFactory(backend=two_teams[0], definition_id="ocp-task", status=Status.FAILED)
    InstanceFactory(backend=two_teams[0], parent=run, name="fine", status=Status.SUCCEEDED)
    canceled = InstanceFactory(
        backend=two_teams[0], parent=run, name="stopped", status=Status.CANCELED
    )
    page = client.get("/failures/")
    group = next(g for g in page.context["groups"] if g["definition_id"] == "ocp-task")
    assert group["child"] == canceled


def test_stuck_means_far_beyond_the_usual_duration_or_silent_too_long(client, two_teams):
    mine, theirs = two_teams
    now = timezone.now()
    for n in range(5):  # "hourly load" usually takes 10 minutes
        InstanceFactory(
            backend=mine,
            definition_id="hourly",
            status=Status.SUCCEEDED,
            run_at=now - timedelta(hours=n + 2),
            duration=timedelta(minutes=10),
        )
    rollups.rebuild()

    def running(backend, minutes, silent_minutes=1, definition="hourly"):
        began = now - timedelta(minutes=minutes)
        return InstanceFactory(
            backend=backend,
            definition_id=definition,
            status=Status.RUNNING,
            run_at=began,
            started_at=began,
            status_changed_at=now - timedelta(minutes=silent_minutes),
        )

    overdue = running(mine, 45)
    running(mine, 15)  # longer than usual, not far longer
    silent = running(mine, 200, silent_minutes=180, definition="no history")
    running(theirs, 500, silent_minutes=500)
    page = client.get("/failures/")
    found = {item.run: item for item in page.context["stuck"]}
    assert set(found) == {silent, overdue}
    assert found[overdue].usual == timedelta(minutes=10) and found[overdue].unchanged_for is None
    assert found[silent].usual is None and found[silent].unchanged_for > timedelta(hours=2)
    body = page.content.decode()
    assert "running 45 min, usually 10 min" in body and "no status change for 3 h 0 min" in body
    assert [item.run for item in client.get("/").context["stuck"]] == [silent, overdue]
    elsewhere = BackendFactory(team=mine.team)
    assert client.get(f"/failures/?backend={elsewhere.pk}").context["stuck"] == []


def test_stuck_runs_are_found_behind_many_healthy_long_runs(client, two_teams, monkeypatch):
    """Candidates are read a chunk at a time (longest-running first) until the list is full;
    a stuck run behind a chunk of healthy ones is still found, up to STUCK_CANDIDATES."""
    monkeypatch.setattr(summaries, "STUCK_CHUNK", 2)
    monkeypatch.setattr(summaries, "STUCK_CANDIDATES", 6)
    mine = two_teams[0]
    now = timezone.now()
    for n in range(8):  # long runs whose status moves: not stuck; the newest two are silent
        InstanceFactory(
            backend=mine,
            definition_id=f"stream {n}",
            status=Status.RUNNING,
            run_at=now - timedelta(hours=20 - n),
            status_changed_at=now - timedelta(hours=3 if n >= 4 else 0),
        )
    found = [item.run.definition_id for item in client.get("/").context["stuck"]]
    assert found == ["stream 4", "stream 5"]  # the 7th and 8th are beyond the candidates


@pytest.mark.parametrize(
    "scope",
    [
        "window=7d",
        "window=custom&start={yesterday}&end={today}",
        "team={team}",
        "backend={backend}",
        "",
    ],
)
def test_every_overview_number_links_to_exactly_those_runs(client, two_teams, scope):
    mine, _ = two_teams
    today, now = timezone.now().date(), timezone.now()
    InstanceFactory(backend=BackendFactory(team=mine.team), status=Status.FAILED)  # same team
    for minutes in (23 * 60 + 50, 24 * 60 + 10, 25 * 60 + 30, 7 * 24 * 60 + 40):  # edges
        InstanceFactory(backend=mine, status=Status.FAILED, run_at=now - timedelta(minutes=minutes))
    rollups.rebuild()
    query = scope.format(
        yesterday=today - timedelta(days=1), today=today, team=mine.team_id, backend=mine.pk
    )
    page = client.get(f"/?{query}")
    body = page.content.decode().replace("&amp;", "&")
    for status, count in page.context["counts"].items():
        link = re.search(rf'href="(/runs/\?[^"]*&status={status})"', body).group(1)
        assert len(client.get(link).context["rows"]) == count, (status, link)
    for backend, cells in page.context["matrix"]:
        for status in Status:  # a 0 too: every number shown links to exactly its runs
            link = f"/runs/?{page.context['runs_query']}&backend={backend.pk}&status={status}"
            assert link in body
            assert len(client.get(link).context["rows"]) == cells.get(status, 0)


def test_chart_axes_are_in_the_readers_zone(client, two_teams):
    utc = client.get("/charts/runs.svg?window=24h").content.decode()
    client.cookies["tz"] = "Asia/Kolkata"  # +05:30
    kolkata = client.get("/charts/runs.svg?window=24h").content.decode()
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    assert f">{hour:%H:%M}<" in utc and f">{hour:%H}:30<" not in utc
    assert f">{hour + timedelta(hours=5, minutes=30):%H:%M}<" in kolkata


def test_overview_charts_the_duration_of_its_most_failing_definitions(client, two_teams):
    mine, theirs = two_teams
    page = client.get("/?window=7d")
    (top,) = page.context["trends"]
    assert (top["backend"], top["definition_id"], top["runs"]) == (mine.pk, "nightly", 6)
    chart_url = f"/charts/durations.svg?window=7d&backend={mine.pk}&definition=nightly"
    assert chart_url.replace("&", "&amp;") in page.content.decode()
    chart = client.get(chart_url)
    assert (
        chart["Content-Type"] == "image/svg+xml"
        and "script-src" not in chart["Content-Security-Policy"]
    )
    body = chart.content.decode()
    assert "p50 (solid)" in body and "p95 (dashed)" in body
    assert client.get(chart_url.replace(str(mine.pk), str(theirs.pk))).status_code == 404
    assert client.get("/charts/durations.svg?backend=x&definition=nightly").status_code == 404


def test_duration_trend_is_p50_and_p95_per_bucket():
    backend = BackendFactory()
    at = timezone.now().replace(minute=30, second=0, microsecond=0) - timedelta(hours=1)
    for minutes in (1, 2, 3, 4, 100):
        InstanceFactory(
            backend=backend, definition_id="d", run_at=at, duration=timedelta(minutes=minutes)
        )
    scope = summaries.Scope(Backend.objects.all(), at - timedelta(hours=3), at + timedelta(hours=1))
    buckets, p50, p95, daily = summaries.duration_trend(scope, backend.pk, "d")
    assert not daily and len(buckets) == 5  # 3 h back from half past, and one ahead
    by_hour = dict(zip(buckets, zip(p50, p95, strict=True), strict=True))
    assert by_hour[hour_of(at)] == (180, 6000) and by_hour[buckets[0]] == (None, None)


def test_inbox_takes_the_run_lists_filters(client, two_teams):
    mine, _ = two_teams
    other = BackendFactory(team=mine.team, name="other")
    InstanceFactory(
        backend=other,
        definition_id="elsewhere",
        status=Status.FAILED,
        run_at=timezone.now() - timedelta(days=10),
    )
    assert {g["definition_id"] for g in client.get("/failures/").context["groups"]} == {"nightly"}
    month = client.get("/failures/?window=30d").context["groups"]
    assert {g["definition_id"] for g in month} == {"nightly", "elsewhere"}
    only = client.get(f"/failures/?window=30d&backend={other.pk}&status=SUCCEEDED")
    assert [g["definition_id"] for g in only.context["groups"]] == ["elsewhere"]
    assert "window=30d" in only.content.decode()  # each group's count keeps the filters


def test_the_inbox_counts_every_failure_of_its_window_not_only_the_newest_hundreds(client):
    backend = BackendFactory()
    client.force_login(UserFactory(teams=[backend.team]))
    now = timezone.now()
    Instance.objects.bulk_create(
        InstanceFactory.build(
            backend=backend,
            definition_id="hourly",
            status=Status.FAILED,
            error_message="java.lang.OutOfMemoryError: Java heap space",
            run_at=now - timedelta(minutes=n),
        )
        for n in range(620)
    )
    (group,) = client.get("/failures/?window=24h").context["groups"]
    assert group["count"] == 620 and group["streak"] == 620

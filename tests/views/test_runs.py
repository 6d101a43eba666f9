import re
from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from dashboard import dag
from instances import rollups
from instances.connectors.base import LogChunk
from instances.models import Edge, Instance, Status
from instances.people import roles
from instances.people.models import Role
from instances.registry import CONNECTORS
from tests.factories import BackendFactory, InstanceFactory, UserFactory
from tests.pipeline.fake import FakeConnector

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>" onmouseover="alert(1)'


@pytest.fixture
def member(client):
    backend = BackendFactory(kind="fake")
    user = UserFactory(teams=[backend.team])
    client.force_login(user)
    return user, backend


def flow_with_children(backend, failing="b"):
    flow = InstanceFactory(
        backend=backend, name="nightly", status=Status.FAILED, definition_id="2400"
    )
    kids = {
        n: InstanceFactory(
            backend=backend,
            parent=flow,
            kind="task",
            name=f"step {n}",
            status=Status.FAILED if n == failing else Status.SUCCEEDED,
            log_locator=f"log-{n}",
        )
        for n in "abc"
    }
    Edge.objects.create(parent=flow, upstream=kids["a"], downstream=kids["b"])
    Edge.objects.create(parent=flow, upstream=kids["b"], downstream=kids["c"])
    return flow, kids


def test_runs_list_shows_visible_runs_only(client, member):
    _, backend = member
    mine = InstanceFactory(backend=backend, name="mine")
    theirs = InstanceFactory(name="theirs")
    page = client.get("/runs/")
    assert page.status_code == 200
    assert mine.name in page.content.decode() and theirs.name not in page.content.decode()


def test_htmx_gets_only_the_rows_and_an_unchanged_list_answers_304(client, member):
    InstanceFactory(backend=member[1], name="mine")
    partial = client.get("/runs/", headers={"HX-Request": "true"})
    assert b"<html" not in partial.content and b"mine" in partial.content
    again = client.get("/runs/", headers={"HX-Request": "true", "If-None-Match": partial["ETag"]})
    assert again.status_code == 304
    assert "HX-Request" in partial["Vary"]


def test_filters_include_exclude_and_vendor_id_jump(client, member):
    backend = member[1]
    failed = InstanceFactory(backend=backend, name="broken", status=Status.FAILED)
    InstanceFactory(backend=backend, name="fine", status=Status.SUCCEEDED)
    body = client.get("/runs/?status=FAILED").content.decode()
    assert "broken" in body and "fine" not in body
    body = client.get("/runs/?not=FAILED").content.decode()
    assert "broken" not in body and "fine" in body
    jump = client.get(f"/runs/?q={failed.external_id}")  # a pasted vendor id opens its run
    assert jump.status_code == 302 and jump["Location"] == f"/runs/{failed.pk}/"
    body = client.get("/runs/?q=brok").content.decode()  # anything else searches names
    assert "broken" in body and "fine" not in body


def test_keyset_pages_never_repeat_or_skip(client, member):
    now = timezone.now()
    for n in range(120):
        InstanceFactory(backend=member[1], name=f"run-{n:03d}", run_at=now - timedelta(minutes=n))
    seen, url = [], "/runs/"
    while url:
        page = client.get(url)
        rows, cursor = page.context["rows"], page.context["next_cursor"]
        seen += [r.name for r in rows]
        url = f"/runs/?after={cursor}" if cursor else None
    assert seen == [f"run-{n:03d}" for n in range(120)]


@pytest.mark.parametrize("sort", ["name", "-name", "run_at", "status"])
def test_every_sort_pages_without_repeats_or_gaps(client, member, sort):
    now = timezone.now()
    for n in range(75):  # names and times collide, so ties are broken by id
        InstanceFactory(
            backend=member[1],
            name=f"run-{n % 7}",
            status=Status.values[n % 5],
            run_at=now - timedelta(minutes=n % 11),
        )
    seen, url = [], f"/runs/?sort={sort}"
    while url:
        page = client.get(url)
        seen += [r.pk for r in page.context["rows"]]
        cursor = page.context["next_cursor"]
        url = f"/runs/?sort={sort}&after={cursor}" if cursor else None
    assert len(seen) == len(set(seen)) == 75
    field = sort.lstrip("-")
    values = [getattr(r, field) for r in Instance.objects.filter(pk__in=seen)]
    ordered = dict(zip(seen, range(75), strict=True))
    by_page = sorted(Instance.objects.filter(pk__in=seen), key=lambda r: ordered[r.pk])
    keys = [getattr(r, field) for r in by_page]
    assert keys == sorted(values, reverse=sort.startswith("-"))


def test_list_shows_each_backends_data_age_and_flags_stale_ones(client, member):
    backend = member[1]
    backend.last_success_at = timezone.now() - timedelta(minutes=10)
    backend.save()
    body = client.get("/runs/").content.decode()
    assert f"<bdi>{backend.name}</bdi>: data as of" in body and "— stale" in body


def test_list_and_detail_cost_a_fixed_number_of_queries(
    client, member, django_assert_max_num_queries
):
    flow, _ = flow_with_children(member[1])
    for _ in range(30):
        InstanceFactory(backend=member[1], parent=flow)
    # each use of the member's scope reads their backends' ids first (a query of one row a
    # backend), so that every query of runs names them by id; the count stays fixed (the
    # run's page reads its actions too: one query)
    with django_assert_max_num_queries(8):
        client.get("/runs/")
    with django_assert_max_num_queries(17):
        client.get(f"/runs/{flow.pk}/")


def test_outsiders_get_404_on_run_detail_and_log(client, member):
    other = InstanceFactory(log_locator="x")
    assert client.get(f"/runs/{other.pk}/").status_code == 404
    assert client.get(f"/runs/{other.pk}/log/").status_code == 404


def test_detail_draws_the_dag_with_the_failed_step_highlighted(client, member):
    flow, kids = flow_with_children(member[1])
    body = client.get(f"/runs/{flow.pk}/").content.decode()
    assert "<svg" in body and f'id="run{kids["b"].pk}"' in body
    assert "Failing step" in body and f"/runs/{kids['b'].pk}/" in body
    assert body.count('class="edge"') == 2


def test_a_run_failed_by_a_canceled_step_points_at_that_step(client, member):
    """OCP fails a task whose subtask was canceled: that subtask is where on-call goes."""
    flow, kids = flow_with_children(member[1], failing="none")
    kids["c"].status = Status.CANCELED
    kids["c"].save()
    body = client.get(f"/runs/{flow.pk}/").content.decode()
    assert 'id="failing"' in body and f"/runs/{kids['c'].pk}/" in body.split('id="failing"')[1]
    outlined = body.split(f'id="run{kids["c"].pk}"')[1].split("</g>")[0]
    assert 'stroke="#cf222e"' in outlined
    assert 'stroke="#cf222e"' not in body.split(f'id="run{kids["a"].pk}"')[1].split("</g>")[0]


def test_a_failed_run_without_steps_or_error_still_has_a_failing_anchor(client, member):
    run = InstanceFactory(backend=member[1], status=Status.FAILED, error_message="")
    assert 'id="failing"' in client.get(f"/runs/{run.pk}/").content.decode()


def test_hostile_names_are_inert_in_html_and_svg(client, member):
    flow, kids = flow_with_children(member[1])
    kids["a"].name = HOSTILE
    kids["a"].save()
    flow.name = HOSTILE
    flow.save()
    for url in (f"/runs/{flow.pk}/", "/runs/"):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body
        assert 'onmouseover="alert(1)' not in body


def test_log_is_fetched_through_the_connector_and_escaped(client, member, monkeypatch):
    monkeypatch.setitem(CONNECTORS, "fake", FakeConnector)
    _, kids = flow_with_children(member[1])
    fetch = lambda self, ext, loc, size: LogChunk(f"<b>{loc}</b>", truncated=True)  # noqa: E731
    monkeypatch.setattr(FakeConnector, "fetch_log", fetch)
    body = client.get(f"/runs/{kids['b'].pk}/log/").content.decode()
    assert "&lt;b&gt;log-b&lt;/b&gt;" in body and "Showing the last" in body
    assert f"/runs/{kids['b'].pk}/log.txt" in body  # the rest, as a file


def test_a_step_shows_its_earlier_tries_each_with_its_error_and_log(client, member, monkeypatch):
    monkeypatch.setitem(CONNECTORS, "fake", FakeConnector)
    fetch = lambda self, ext, loc, size: LogChunk(f"read {loc}", truncated=False)  # noqa: E731
    monkeypatch.setattr(FakeConnector, "fetch_log", fetch)
    _, kids = flow_with_children(member[1])
    step = kids["b"]
    step.tries.create(number=1, status=Status.FAILED, error_message="<b>OOM</b>", log_locator="t1")
    step.tries.create(number=2, status=Status.FAILED, error_message="timed out")
    body = client.get(f"/runs/{step.pk}/").content.decode()
    assert "Earlier tries" in body and "&lt;b&gt;OOM&lt;/b&gt;" in body and "timed out" in body
    assert f"/runs/{step.pk}/log.txt?try=1" in body and "?try=2" not in body  # no log kept
    assert client.get(f"/runs/{step.pk}/log.txt?try=1").content == b"read t1"
    assert client.get(f"/runs/{step.pk}/log.txt?try=2").status_code == 404
    assert client.get(f"/runs/{step.pk}/log/?try=x").status_code == 404


def test_the_whole_log_downloads_as_a_file(client, member, monkeypatch):
    monkeypatch.setitem(CONNECTORS, "fake", FakeConnector)
    _, kids = flow_with_children(member[1])
    asked = []

    def fetch(self, ext, loc, size):
        asked.append(size)
        return LogChunk("line\n" * 100_000, truncated=False)

    monkeypatch.setattr(FakeConnector, "fetch_log", fetch)
    kids["b"].external_id = '../../etc/"passwd"'
    kids["b"].save()
    reply = client.get(f"/runs/{kids['b'].pk}/log.txt")
    assert reply["Content-Type"] == "text/plain; charset=utf-8"
    assert reply["Content-Disposition"] == 'attachment; filename="etc_passwd.log"'
    assert reply.content.count(b"line") == 100_000 and asked == [10 * 1024 * 1024]
    outsider = InstanceFactory(log_locator="x")
    assert client.get(f"/runs/{outsider.pk}/log.txt").status_code == 404


def test_backends_page_flags_stale_backends_and_poll_now_is_for_operators(
    client, member, monkeypatch
):
    user, backend = member
    backend.last_success_at = timezone.now() - timedelta(hours=1)
    backend.save()
    body = client.get("/backends/").content.decode()
    assert backend.name in body and "stale" in body
    assert client.post(f"/backends/{backend.pk}/poll/").status_code == 404
    queued = []
    monkeypatch.setattr("instances.tasks.poll_backend.delay", queued.append)
    roles.place(user, backend.team, Role.OPERATOR)
    assert client.post(f"/backends/{backend.pk}/poll/").status_code == 200
    assert queued == [backend.pk]


def test_detail_has_a_gantt_with_the_critical_path(client, member):
    flow, kids = flow_with_children(member[1])
    now = timezone.now()
    for n, name in enumerate("abc"):
        kids[name].started_at = now - timedelta(minutes=30 - 10 * n)
        kids[name].finished_at = now - timedelta(minutes=21 - 10 * n)
        kids[name].save()
    body = client.get(f"/runs/{flow.pk}/").content.decode()
    assert body.count('class="bar ') == 3 and body.count(' critical"') == 3


def test_critical_path_follows_the_upstream_that_ended_last():
    from types import SimpleNamespace

    from dashboard.timeline import critical_path

    now = timezone.now()

    def step(pk, end):
        return SimpleNamespace(pk=pk, started_at=now, finished_at=now + timedelta(minutes=end))

    # 1 → 3, 2 → 3; 2 ended later than 1, so the path is 2, 3
    assert critical_path([step(1, 1), step(2, 5), step(3, 9)], [(1, 3), (2, 3)]) == {2, 3}


def test_big_graphs_draw_only_the_failing_neighbourhood(client, member):
    flow = InstanceFactory(backend=member[1], name="huge")
    kids = [
        InstanceFactory(
            backend=member[1],
            parent=flow,
            name=f"n{n}",
            status=Status.FAILED if n == 150 else Status.SUCCEEDED,
        )
        for n in range(320)
    ]
    Edge.objects.bulk_create(
        Edge(parent=flow, upstream=kids[n - 1], downstream=kids[n]) for n in range(1, 320)
    )
    body = client.get(f"/runs/{flow.pk}/").content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert svg.count('class="node"') == 3  # n149 → n150 → n151
    # what is not drawn is collapsed into counts beside what is: the chains on either side
    assert svg.count('class="node stub"') == 2
    assert ">149 more steps<" in svg and ">168 more steps<" in svg
    assert "320 steps" in body and body.count('<tr id="child-') == 200  # the first 200
    assert 'The first 200 of 320 steps by start: <a href="?steps=all">' in body
    every = client.get(f"/runs/{flow.pk}/?steps=all").content.decode()
    assert every.count('<tr id="child-') == 320


def test_focus_mode_collapses_hidden_chains_and_says_when_more_lie_beyond_a_fork():
    # 0 → 1 → 2 → 3 and 5 → 1; only 2 drawn: upstream, one step (1) then a fork; downstream, 3
    edges = [(0, 1), (5, 1), (1, 2), (2, 3)]
    assert dag.collapsed({2}, edges) == [("up", 2, 1, True), ("down", 2, 1, False)]
    assert dag.collapsed({0, 1, 2, 3, 5}, edges) == []  # nothing hidden, nothing collapsed


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "owner=%00",
        "definition=%00",
        "after=AAAA",
        "after=%00",
        "after=HzE=",
        "after=HzE=&sort=name",
        "after=MjAyNi0wMS0wMVQyNTo2MTowMB8x",  # 2026-01-01T25:61:00␟1
        "backend=99999999999999999999",
        "sort=%00",
        "window=%00",
        "status=%00&not=%00",
        "window=custom&since=2026-13-45T99:99",
        "window=custom&since=%00&until=x",
        "window=custom&since=2026-01-01T00:00:00%2B99:00",
        "window=custom&since=0001-01-01T00:00:00%2B01:00",
        "window=custom&start=9999-99-99&end=0",
        "team=-1",
        "team=99999999999999999999",
    ],
)
def test_unreadable_parameters_are_ignored_by_the_list_and_the_api(client, member, query):
    run = InstanceFactory(backend=member[1])
    page = client.get(f"/runs/?{query}")
    assert page.status_code == 200 and page.context["rows"] == [run]
    api = client.get(f"/api/v1/runs?{query}")
    assert api.status_code == 200 and [r["id"] for r in api.json()["runs"]] == [run.pk]


@pytest.mark.parametrize(
    "before",
    [
        "%00garbage",
        "2026-01-01T25:61:00",
        "2026-01-01T00:00:00%2B99:00",
        "0001-01-01T00:00:00%2B01:00",
    ],
)
def test_hostile_grid_parameters_are_ignored(client, member, before):
    run = InstanceFactory(backend=member[1], definition_id="d")
    page = client.get(f"/definitions/{member[1].pk}/?id=d&before={before}")
    assert page.status_code == 200 and page.context["runs"] == [run]
    assert client.get(f"/definitions/{member[1].pk}/?id=%00").status_code == 404


def test_top_bar_counts_top_level_runs_as_the_overview_does(client, member):
    flow, _ = flow_with_children(member[1])  # one failed flow with a failed step
    InstanceFactory(backend=member[1], status=Status.RUNNING)
    InstanceFactory(backend=member[1], parent=flow, status=Status.RUNNING)
    InstanceFactory(status=Status.FAILED)  # another team's
    rollups.rebuild()  # which sync keeps current as it writes
    page = client.get("/runs/")
    top = page.context["top"]
    assert (top.failed, top.running) == (1, 1)
    running = client.get(f"/runs/?{top.running_query}")
    assert len(running.context["rows"]) == 1  # the link lists exactly what it counts


def test_detail_shows_failures_on_other_backends_around_the_same_time(client, member):
    backend = member[1]
    now = timezone.now()
    run = InstanceFactory(backend=backend, status=Status.FAILED, run_at=now)
    near = InstanceFactory(
        backend=BackendFactory(team=backend.team),
        status=Status.FAILED,
        name="db down too",
        run_at=now - timedelta(minutes=10),
    )
    InstanceFactory(backend=near.backend, status=Status.FAILED, run_at=now - timedelta(hours=3))
    InstanceFactory(status=Status.FAILED, run_at=now)  # another team's: not shown
    InstanceFactory(backend=backend, status=Status.FAILED, run_at=now)  # same backend: not
    page = client.get(f"/runs/{run.pk}/")
    assert page.context["elsewhere"] == [near]
    assert "db down too" in page.content.decode()


def test_vendor_console_link_follows_the_backends_pattern_escaped(client, member):
    backend = member[1]
    backend.scope = {"console_url": "https://console.example/i/{external_id}?d={definition_id}"}
    backend.save()
    run = InstanceFactory(backend=backend, external_id='a/b"<x>', definition_id="d 1")
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert 'href="https://console.example/i/a%2Fb%22%3Cx%3E?d=d%201"' in body
    backend.scope = {"console_url": "javascript:alert(1)//{external_id}"}
    backend.save()
    assert "javascript:" not in client.get(f"/runs/{run.pk}/").content.decode()


def test_an_unfinished_runs_page_refreshes_itself_until_it_ends(client, member):
    flow, kids = flow_with_children(member[1])
    kids["c"].status = Status.RUNNING
    kids["c"].save()
    page = client.get(f"/runs/{flow.pk}/")
    assert 'hx-trigger="every' in page.content.decode()
    partial = client.get(f"/runs/{flow.pk}/", headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<div id="live"')
    assert "Raw payload" not in body  # the log and payload stay as the reader left them
    again = {"HX-Request": "true", "If-None-Match": partial["ETag"]}
    assert client.get(f"/runs/{flow.pk}/", headers=again).status_code == 304
    kids["c"].status, kids["c"].updated_at = Status.SUCCEEDED, timezone.now()
    kids["c"].save()
    ended = client.get(f"/runs/{flow.pk}/", headers=again)
    assert ended.status_code == 200 and 'hx-trigger="every' not in ended.content.decode()


def test_a_dag_dot_cannot_draw_leaves_the_steps_and_a_note(
    client, member, tmp_path, monkeypatch, settings
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    flow, _ = flow_with_children(member[1])
    broken = tmp_path / "dot"  # a graphviz that refuses the graph, as dot does a syntax error
    broken.write_text("#!/bin/sh\necho 'Error: syntax error in line 2' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    page = client.get(f"/runs/{flow.pk}/")
    body = page.content.decode()
    assert page.status_code == 200 and "data-dag-view" not in body
    assert "The graph of these steps could not be drawn" in body
    assert body.count('<tr id="child-') == 3


def test_only_the_culprit_is_outlined_and_steps_after_it_say_upstream_failed(client, member):
    flow, kids = flow_with_children(member[1], failing="b")  # a → b → c
    kids["c"].status = Status.FAILED  # failed only because b did
    kids["c"].save()
    body = client.get(f"/runs/{flow.pk}/").content.decode()
    assert f'Failing step: <a href="/runs/{kids["b"].pk}/">' in body
    node = {n: body.split(f'id="run{kids[n].pk}"')[1].split("</g>")[0] for n in "bc"}
    assert 'stroke="#cf222e"' in node["b"] and 'stroke="#cf222e"' not in node["c"]
    assert "stroke-dasharray" in node["c"] and "Failed (upstream failed)" in node["c"]
    row = body.split(f'<tr id="child-{kids["c"].pk}">')[1].split("</tr>")[0]
    assert "upstream failed</span>" in row
    assert (
        "upstream failed" not in body.split(f'<tr id="child-{kids["b"].pk}">')[1].split("</tr>")[0]
    )
    api = client.get(f"/api/v1/runs/{flow.pk}").json()
    assert api["failing_step"] == kids["b"].pk


def test_the_culprits_error_comes_first_as_its_root_cause(client, member):
    flow, kids = flow_with_children(member[1], failing="b")
    kids["b"].error_message = (
        "java.lang.RuntimeException: load failed\n\tat x.Y(Y.java:1)\n"
        "Caused by: java.sql.SQLException: ORA-00942: table or view "
        "does not exist"
    )
    kids["b"].save()
    body = client.get(f"/runs/{flow.pk}/").content.decode()
    first = body.split('<p class="error-first">')[1].split("</p>")[0]
    assert first.startswith("<strong>Table not found</strong>: <code><bdi>java.sql.SQLException")
    assert f'in <a href="/runs/{kids["b"].pk}/">' in first
    assert body.index('class="error-first"') < body.index('class="facts"')  # above the fold


def test_the_list_shows_top_level_runs_unless_steps_are_asked_for_or_a_step_id_pasted(
    client, member
):
    flow, kids = flow_with_children(member[1])
    assert client.get("/runs/").context["rows"] == [flow]
    with_steps = client.get("/runs/?steps=1").context["rows"]
    assert set(with_steps) == {flow, *kids.values()}
    typed = client.get(f"/runs/?q={kids['b'].external_id}", headers={"HX-Request": "true"})
    assert typed.context["rows"] == [kids["b"]]  # a pasted step id finds its step
    forced = client.get(f"/runs/?q={kids['b'].external_id}&roots=1", headers={"HX-Request": "true"})
    assert forced.context["rows"] == []  # … unless only top-level runs are asked for
    # part of a name: top-level runs, and steps when they are asked for
    assert client.get("/runs/?q=step", headers={"HX-Request": "true"}).context["rows"] == []
    named = client.get("/runs/?q=step&steps=1", headers={"HX-Request": "true"}).context["rows"]
    assert set(named) == set(kids.values())
    assert client.get("/runs/?q=nigh", headers={"HX-Request": "true"}).context["rows"] == [flow]
    api = client.get("/api/v1/runs").json()["runs"]
    assert [r["id"] for r in api] == [flow.pk]  # the API and CSV list what the page lists


def test_a_log_marks_its_error_lines_and_links_the_first(client, member, monkeypatch):
    monkeypatch.setitem(CONNECTORS, "fake", FakeConnector)
    _, kids = flow_with_children(member[1])
    cause = "Caused by: java.sql.SQLException: ORA-00942: table or view does not exist"
    text = "\n".join([*(f"INFO batch {n} done" for n in range(50)), "ERROR load failed", cause])
    monkeypatch.setattr(FakeConnector, "fetch_log", lambda *_: LogChunk(text, truncated=False))
    body = client.get(f"/runs/{kids['b'].pk}/log/").content.decode()
    assert '<span id="L50">INFO batch 49 done</span>' in body
    assert '<span id="L51" class="err">ERROR load failed</span>' in body
    assert body.count('class="err"') == 2
    assert '2 error lines: <a href="#L51">the first, line 51</a>' in body


def test_backends_page_says_when_an_error_is_over(client, member):
    backend = member[1]
    backend.last_error = "503: vendor down"
    backend.last_error_at = timezone.now() - timedelta(hours=1)
    backend.consecutive_failures = 2
    backend.save()
    body = client.get("/backends/").content.decode()
    assert "503: vendor down</bdi> <small><time" in body
    backend.consecutive_failures = 0
    backend.save()
    body = client.get("/backends/").content.decode()
    assert "503: vendor down" not in body and "recovered; last error <time" in body


def test_an_inbox_that_filters_everything_out_says_so(client, member):
    InstanceFactory(backend=member[1], status=Status.FAILED)
    assert "matches these filters" in client.get("/failures/?q=nothing-like-it").content.decode()


def test_the_gantt_has_a_time_axis_in_the_readers_zone_names_and_a_now_line(client, member):
    flow, kids = flow_with_children(member[1])
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=40)
    for n, name in enumerate("abc"):
        kids[name].started_at = start + timedelta(minutes=10 * n)
        kids[name].finished_at = None if name == "c" else start + timedelta(minutes=10 * n + 9)
        kids[name].save()
    client.cookies["tz"] = "Asia/Shanghai"
    page = client.get(f"/runs/{flow.pk}/")
    gantt, body = page.context["gantt"], page.content.decode()
    assert 3 <= len(gantt.ticks) <= 8
    labels = [label for _, label, _ in gantt.ticks]
    # 5- or 10-minute ticks, labelled in Shanghai time (UTC+8)
    hours = {(start + timedelta(hours=8, minutes=m)).strftime("%H") for m in range(0, 50, 5)}
    assert all(re.fullmatch(r"\d\d:\d\d", label) and label[:2] in hours for label in labels)
    assert gantt.now is not None and 99 <= gantt.now <= 100  # step c still runs
    assert '<line class="now"' in body
    names = body.split('<ol class="gantt-names">')[1].split("</ol>")[0]
    assert [n for n in re.findall(r"<bdi>(.*?)</bdi>", names)] == ["step a", "step b", "step c"]


def test_a_new_poll_refreshes_the_datas_age_and_the_top_bar(client, member):
    backend = member[1]
    InstanceFactory(backend=backend, status=Status.RUNNING)
    live = {"HX-Request": "true"}
    first = client.get("/runs/", headers=live)
    assert client.get("/runs/", headers=live | {"If-None-Match": first["ETag"]}).status_code == 304
    backend.last_success_at = timezone.now()
    backend.save()  # a poll succeeded, though no run changed
    again = client.get("/runs/", headers=live | {"If-None-Match": first["ETag"]})
    body = again.content.decode()
    assert again.status_code == 200
    assert '<p class="freshness" id="freshness" hx-swap-oob="true">' in body
    assert f'data as of <time datetime="{backend.last_success_at.isoformat()}">' in body
    assert '<span class="counters" id="counters" hx-swap-oob="true">' in body


def test_a_custom_window_without_an_end_runs_to_today():
    from datetime import UTC, datetime

    from dashboard.filters import custom_window

    today = timezone.now().date()
    begin, end = custom_window("2026-11-20", "")
    assert begin == datetime(2026, 11, 20, tzinfo=UTC)
    assert end == datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
    assert custom_window("2026-11-20", "2026-11-19") is None  # an end before the start


def test_the_older_runs_link_carries_the_filters_and_one_after(client, member):
    now = timezone.now()
    for n in range(120):
        InstanceFactory(backend=member[1], name=f"run-{n:03d}", run_at=now - timedelta(minutes=n))
    url = "/runs/?status=PENDING&status=SUCCEEDED&status=RUNNING&status=FAILED&sort=name"
    for _ in range(2):  # page 1, then page 2: its link must not pile up `after`s
        page = client.get(url).content.decode()
        link = re.search(r'href="\?([^"]+)">Older runs', page).group(1).replace("&amp;", "&")
        query = QueryDict(link)
        assert len(query.getlist("after")) == 1 and query.get("sort") == "name"
        assert len(query.getlist("status")) == 4
        url = f"/runs/?{link}"

"""The reader's view holds: after filtering in place (htmx) every link on the run list follows
the filters now in the address bar, times show in the browser's own zone until the reader
picks another, and a log opens at its tail and finds lines."""

import csv
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from instances.models import Instance, Status
from tests.browser.conftest import choose, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def query_of(link) -> dict:
    return parse_qs(urlsplit(link.get_attribute("href")).query)


def test_sort_headers_and_csv_follow_the_filters(page, live_server, polled_ocp):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/runs/?window=all")
    choose(page, "status", "FAILED")
    expect(page).to_have_url(re.compile(r"status=FAILED"))
    expect(page.locator("#csv-link")).to_have_attribute("href", re.compile(r"status=FAILED"))
    assert query_of(page.locator("#csv-link"))["status"] == ["FAILED"]
    assert query_of(page.locator("#api-link"))["status"] == ["FAILED"]  # the API's link too
    name = page.locator("#runs-head a", has_text="Name")
    assert query_of(name)["status"] == ["FAILED"] and query_of(name)["sort"] == ["name"]
    name.click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    assert parse_qs(urlsplit(page.url).query)["status"] == ["FAILED"]
    expect(page.locator("#rows .badge.FAILED").first).to_be_visible()
    expect(page.locator("#rows .badge:not(.FAILED)")).to_have_count(0)
    # the download holds the filtered runs only, every one of them
    with page.expect_download() as download:
        page.click("#csv-link")
    with open(download.value.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    failed = Instance.objects.filter(backend=polled_ocp, parent__isnull=True, status="FAILED")
    assert {row["status"] for row in rows} == {"FAILED"} and len(rows) == failed.count()


@pytest.mark.browser_zone("Europe/Berlin")
def test_a_berlin_browser_sees_berlin_times_in_table_chart_and_gantt(page, live_server, polled_ocp):
    berlin = ZoneInfo("Europe/Berlin")
    run = (
        Instance.objects.filter(
            backend=polled_ocp,
            parent__isnull=True,
            children__isnull=False,
            started_at__isnull=False,
        )
        .distinct()
        .order_by("-run_at")
        .first()
    )
    log_in(page, live_server)  # the first page stores the browser's zone for the next ones
    page.goto(f"{live_server.url}/runs/?window=all")  # the newest run comes first
    expect(page.locator("#runs-head")).to_contain_text("Europe/Berlin")
    started = run.started_at.astimezone(berlin)
    expect(page.locator(f"#rows time[datetime='{run.started_at.isoformat()}']").first).to_have_text(
        re.compile(started.strftime("%H:%M"))
    )
    # the overview's chart: its hourly axis labelled in Berlin time (UTC+1 in winter)
    page.goto(f"{live_server.url}/?window=24h")
    chart = page.request.get(f"{live_server.url}/charts/runs.svg?window=24h").text()
    this_hour = datetime.now(berlin).replace(minute=0)
    assert f">{this_hour:%H:%M}<" in chart
    # the Gantt's axis and the step times on the run's page
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    expect(page.locator("h2", has_text="Timeline").first).to_contain_text("Europe/Berlin")
    first_tick = page.locator(".gantt text.tick").first.text_content()
    step = run.children.exclude(started_at=None).order_by("started_at").first()
    axis_start = step.started_at.astimezone(berlin)
    assert first_tick[:2] in {f"{axis_start:%H}", f"{(axis_start + timedelta(hours=1)):%H}"}
    expect(page.locator(f"#child-{step.pk} td[data-label=Started]")).to_have_text(
        f"{axis_start:%H:%M:%S}"
    )


@pytest.mark.browser_zone("Asia/Singapore")
def test_times_default_to_the_browsers_own_zone(page, live_server, polled_ocp):
    log_in(page, live_server)  # the first page stores the browser's zone for the next ones
    page.goto(f"{live_server.url}/runs/?window=all")
    # the zone by its name in the column heading and on hover, the time in that zone
    expect(page.locator("#runs-head")).to_contain_text("Asia/Singapore")
    first = page.locator("#rows time").first
    expect(first).to_have_attribute("title", re.compile(r"^\S+ \S+ Asia/Singapore · "))
    expect(page.locator("select[name=tz]")).to_have_value("Asia/Singapore")


def test_a_log_opens_at_its_tail_and_finds_lines(page, live_server, polled_ocp):
    steps = Instance.objects.filter(backend=polled_ocp, parent__isnull=False)
    failing = steps.filter(status=Status.FAILED).exclude(error_message="").first()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/runs/{failing.pk}/")
    page.click("text=Load the log")
    log = page.locator("#log-lines")
    expect(log.locator("span.err").first).to_be_visible()  # the tail, where the error is
    at_bottom = "el => el.scrollTop + el.clientHeight >= el.scrollHeight - 2"
    assert log.evaluate(at_bottom)
    page.fill("[data-log-find]", "INFO step 3 of")
    expect(page.locator("[data-log-count]")).to_have_text("1 line")
    expect(log.locator("span.hit")).to_have_count(1)
    expect(log.locator("span.hit")).to_be_in_viewport()


def test_dates_typed_on_the_overview_make_a_custom_window(page, live_server, polled_ocp):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/?window=7d")
    with page.expect_navigation():
        page.fill("input[name=start]", "2026-11-20")
    expect(page).to_have_url(re.compile(r"window=custom"))
    expect(page.locator("select[name=window]")).to_have_value("custom")
    expect(page.locator("input[name=start]")).to_have_value("2026-11-20")
    failed = page.locator(
        '.counters a[href^="/failures/"]'
    )  # the top bar's "failed 24 h" opens 24 h
    expect(failed).to_have_attribute("href", "/failures/?window=24h")

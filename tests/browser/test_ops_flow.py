"""The on-call path in real headless Chromium: from the failed-runs list to the failing
subtask's log, live refresh without reloading, and no console errors or CSP violations."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from instances import sync
from instances.errors import telling_line
from instances.models import Instance, Status
from tests.browser.conftest import choose, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_failed_ocp_runs_to_the_failing_subtask_log(page, live_server, polled_ocp, shots):
    failing = Instance.objects.filter(
        backend=polled_ocp, parent__isnull=False, status=Status.FAILED
    )
    # the emulated world depends on the time of day; some failed task always has a failed
    # subtask (others failed through a canceled one, tested in tests/views)
    task = failing.filter(parent__status=Status.FAILED).first().parent
    log_in(page, live_server)
    page.click("nav >> text=Runs")
    choose(page, "backend", str(polled_ocp.pk))
    choose(page, "status", "FAILED")
    expect(page).to_have_url(re.compile(r"status=FAILED"))
    steps = page.locator("#rows tr small", has_text=re.compile(r"^in "))  # "in <its parent>"
    expect(steps).to_have_count(0)  # top-level runs by default
    page.check("input[name=steps]")
    expect(steps.first).to_be_visible()
    page.uncheck("input[name=steps]")
    expect(steps).to_have_count(0)
    expect(page.locator("#rows .badge.FAILED").first).to_be_visible()
    # a live refresh keeps the filters the address bar now holds
    with page.expect_response(lambda r: "/runs/?" in r.url and "status=FAILED" in r.url):
        pass
    expect(page.locator("#rows .badge:not(.FAILED)")).to_have_count(0)
    page.screenshot(path=str(shots / "runs.png"))
    page.fill("input[name=q]", task.external_id)
    expect(page.locator("#rows tr")).to_have_count(1)
    page.locator("#rows tr td:nth-child(3) a").first.click()
    expect(page.locator("[data-dag-view] > svg")).to_be_visible()
    highlighted = page.locator('[data-dag-view] > svg g.node polygon[stroke="#cf222e"]')
    expect(highlighted.first).to_be_visible()
    page.screenshot(path=str(shots / "run-detail.png"), full_page=True)
    page.click("text=Failing step >> a")
    expect(page.locator("h1")).to_contain_text("Failed")
    subtask = failing.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    # its error, read from its log's tail at ingest, is the first thing the page says
    assert subtask.error_message
    expect(page.locator(".error-first code")).to_have_text(telling_line(subtask.error_message))
    page.click("text=Load the log")
    expect(page.locator("pre.log")).to_contain_text(subtask.error_message.splitlines()[-1])


def test_live_refresh_shows_a_status_change_without_reloading(
    page, live_server, polled_ocp, emulator
):
    log_in(page, live_server)
    running = Instance.objects.filter(
        backend=polled_ocp, parent__isnull=True, status=Status.RUNNING
    ).first()
    assert running is not None
    page.goto(f"{live_server.url}/runs/?window=all&definition={running.definition_id}")
    row = page.locator("#rows tr", has_text=running.external_id)
    expect(row.locator(".badge")).to_contain_text("Running")
    row.locator(f"#run-link-{running.pk}").focus()  # a keyboard user is on this run
    page.evaluate("window.__not_reloaded = true")
    httpx.post(
        f"{emulator.base_url}/_emulator/runs/ocp/{running.external_id}/status",
        json={"status": "failed"},
    )
    sync.poll_backend(polled_ocp.pk)
    expect(row.locator(".badge")).to_contain_text("Failed")
    assert page.evaluate("window.__not_reloaded") is True
    assert page.evaluate("document.activeElement.id") == f"run-link-{running.pk}"  # still there


def test_backends_page_renders(page, live_server, polled_ocp, shots):
    log_in(page, live_server)
    page.click("nav >> text=Backends")
    expect(page.locator("table.runs")).to_contain_text(polled_ocp.name)
    page.screenshot(path=str(shots / "backends.png"))


def test_the_failure_drill_in_fits_a_phone(page, live_server, polled_ocp):
    log_in(page, live_server)
    page.set_viewport_size({"width": 375, "height": 740})
    failed = Instance.objects.filter(
        backend=polled_ocp, parent__isnull=True, status=Status.FAILED
    ).first()
    for url in ("/runs/?status=FAILED", "/failures/", "/", f"/runs/{failed.pk}/#failing"):
        page.goto(f"{live_server.url}{url}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, url
        # no column is hidden: wide tables scroll sideways within the page
        for cell in page.locator("table.runs tbody tr:first-child td").all():
            assert cell.is_visible(), (url, cell.inner_html()[:80])
    expect(page.locator("#failing")).to_be_in_viewport()


def test_slash_jumps_to_the_search_box(page, live_server, polled_ocp):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/runs/")
    page.keyboard.press("/")
    expect(page.locator("input[name=q]")).to_be_focused()
    page.keyboard.type("no/such")  # a slash typed into the box stays in it
    expect(page.locator("input[name=q]")).to_have_value("no/such")


def test_a_running_runs_page_follows_it_to_its_end(page, live_server, polled_ocp, emulator):
    log_in(page, live_server)
    running = Instance.objects.filter(
        backend=polled_ocp, parent__isnull=True, status=Status.RUNNING
    ).first()
    page.goto(f"{live_server.url}/runs/{running.pk}/")
    expect(page.locator("h1 .badge")).to_contain_text("Running")
    page.evaluate("window.__not_reloaded = true")
    httpx.post(
        f"{emulator.base_url}/_emulator/runs/ocp/{running.external_id}/status",
        json={"status": "failed"},
    )
    sync.poll_backend(polled_ocp.pk)
    expect(page.locator("h1 .badge")).to_contain_text("Failed")
    expect(page.locator("#failing")).to_be_visible()
    assert page.evaluate("window.__not_reloaded") is True
    expect(page.locator("#live[hx-trigger]")).to_have_count(0)  # finished: it stops asking


def test_a_live_list_says_how_fresh_it_is_and_can_be_paused(page, live_server, polled_ocp):
    log_in(page, live_server)  # polled_ocp refreshes live views every second
    page.goto(f"{live_server.url}/runs/")
    for _ in range(2):  # a refresh swaps rows, never the whole page (a cached one) into them
        with page.expect_response(
            lambda r: "/runs/" in r.url and r.request.headers.get("hx-request") == "true"
        ):
            pass
        expect(page.locator("h1")).to_have_count(1)
        expect(page.locator("#rows > tr").first).to_be_visible()
    age = page.locator("[data-live-age]")
    expect(age).to_have_text(re.compile(r"^Updated [0-2] s ago$"))
    page.click("text=Pause")
    expect(page.locator("[data-live-pause]")).to_have_attribute("aria-pressed", "true")
    # three refresh intervals pass with no refresh: the age keeps growing
    expect(age).to_have_text(re.compile(r"^Paused; updated ([4-9]|\d\d+) s ago$"), timeout=15_000)
    page.click("text=Resume")
    expect(age).to_have_text(re.compile(r"^Updated [0-2] s ago$"))


def test_the_phone_journey_from_the_failure_badge_to_the_log_takes_three_taps(
    page, live_server, polled_ocp
):
    log_in(page, live_server)
    page.set_viewport_size({"width": 375, "height": 740})
    page.click(".counters a[href^='/failures/']")  # 1: the top bar's failure count
    expect(page.locator("h1")).to_have_text("Failures")
    page.locator("a.failing").first.click()  # 2: the latest failure's culprit step
    expect(page.locator("h1 .badge")).to_contain_text("Failed")
    expect(page.locator(".error-first")).to_be_in_viewport()
    page.click("text=Load the log")  # 3: its log, opened at the error
    error = page.locator("pre.log .err").first
    expect(error).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

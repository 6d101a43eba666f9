"""The manager's and triage path in real Chromium: overview → a backend's failed count →
the filtered list → the inbox → the failing subtask; the history grid of a big definition."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from instances.models import Instance, Status
from tests.browser.conftest import log_in
from tests.factories import InstanceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_the_overview_to_the_failing_subtask(page, live_server, polled_ocp, shots):
    log_in(page, live_server)
    expect(page.locator("img.chart").first).to_be_visible()
    assert page.locator("img.chart").count() > 1  # the runs chart and duration trends
    for chart in page.locator("img.chart").all():  # each one loaded and decoded
        expect(chart).to_have_js_property("complete", True)
        expect(chart).not_to_have_js_property("naturalWidth", 0)
    page.screenshot(path=str(shots / "overview.png"), full_page=True)
    page.click("a.cell-FAILED")
    expect(page).to_have_url(re.compile(rf"backend={polled_ocp.pk}.*status=FAILED"))
    expect(page.locator("#rows .badge:not(.FAILED)")).to_have_count(0)
    page.click("nav >> text=Failures")
    expect(page.locator("a.failing").first).to_be_visible()
    page.screenshot(path=str(shots / "inbox.png"), full_page=True)
    page.locator("a.failing").first.click()
    expect(page.locator("h1 .badge")).to_contain_text("Failed")
    expect(page.locator("dt", has_text="Part of")).to_be_visible()


def test_history_grid_of_a_definition_with_400_tasks(page, live_server, polled_ocp, shots):
    now = timezone.now()
    for r in range(25):
        run = InstanceFactory(
            backend=polled_ocp,
            definition_id="wide",
            name="wide job",
            run_at=now.replace(microsecond=r),
        )
        Instance.objects.bulk_create(
            InstanceFactory.build(
                backend=polled_ocp,
                parent=run,
                name=f"task {t:03d}",
                definition_id=f"task {t:03d}",
                status=Status.FAILED if (r, t) == (3, 150) else Status.SUCCEEDED,
            )
            for t in range(400)
        )
    log_in(page, live_server)
    page.goto(f"{live_server.url}/definitions/{polled_ocp.pk}/?id=wide")
    expect(page.locator("table.grid tbody tr")).to_have_count(100)  # a page of steps
    expect(page.locator("table.grid thead th")).to_have_count(26)  # the step, then 25 runs
    expect(page.locator("td.sq.FAILED")).to_have_count(0)  # task 150 is on the next page
    page.click("text=steps 2 →")
    expect(page.locator("table.grid tbody th").first).to_have_text("task 100")
    failed = page.locator("td.sq.FAILED a")
    expect(failed).to_have_count(1)
    expect(page.locator("td.sq.SUCCEEDED").first).to_have_attribute("title", "Succeeded")
    page.screenshot(path=str(shots / "grid.png"))
    failed.click()
    expect(page.locator("h1")).to_contain_text("task 150")


@pytest.mark.parametrize(
    ("system", "fill"), [("dark", "rgb(230, 237, 243)"), ("light", "rgb(27, 31, 36)")]
)
def test_charts_follow_a_dark_system_theme(page, live_server, polled_ocp, system, fill):
    """With the theme left to the system, chart labels are light on a dark system and dark on
    a light one (they were dark on dark)."""
    log_in(page, live_server)
    page.emulate_media(color_scheme=system)
    page.goto(f"{live_server.url}/charts/runs.svg?window=24h")  # the image, opened as a document
    label = page.locator("text").first
    assert label.evaluate("el => getComputedStyle(el).fill") == fill

"""On-call at real scale (issue 12), in Chromium: a 2,000-step flow from the emulator (what
`manage.py emulate --steps 2000,2000` serves), polled, its failing step found from the run
page, its error above the fold, its log opened at the error."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from instances import sync
from instances.emulator.runner import run_emulator
from instances.models import Backend, Instance, Status
from instances.vendors.ocp import demo as ocp_demo
from tests.browser.conftest import log_in
from tests.browser.test_dag_viewer import inside, scale

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
STEPS = 2000


@pytest.fixture
def big_flow(settings):
    """One OCP flow of 2,000 steps every 5 minutes for the last hour; with seed 7, one of its
    runs has a step that failed and steps below it skipped while the rest runs on."""
    settings.RUNBOARD_REFRESH_SECONDS = 1
    with run_emulator(
        seed=7,
        speed=0,
        vendors=("ocp",),
        definitions_per_vendor=1,
        steps=(STEPS, STEPS),
        history=timedelta(hours=1),
    ) as emulator:
        backend = Backend(name="OCP (2,000 steps)", kind="ocp", base_url=emulator.base_url)
        backend.credentials = {"username": ocp_demo.USER, "password": ocp_demo.PASSWORD}
        backend.save()
        sync.poll_backend(backend.pk)
        backend.emulator = emulator  # to move its clock
        yield backend


def test_a_2000_step_runs_failing_step_its_error_and_its_log(page, live_server, big_flow, shots):
    run = (
        Instance.objects.filter(
            backend=big_flow, parent__isnull=True, children__status=Status.FAILED
        )
        .distinct()
        .get()
    )
    assert run.children.count() == STEPS
    culprit = run.children.get(status=Status.FAILED)
    log_in(page, live_server)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    # the error first: the culprit's telling line, above the fold
    error = page.locator(".error-first")
    expect(error).to_contain_text(culprit.name)
    assert error.bounding_box()["y"] + error.bounding_box()["height"] <= 900
    expect(page.locator(".svg-pan-zoom_viewport")).to_have_count(1)
    page.screenshot(path=str(shots / "dag-2000-fit.png"))
    expect(page.locator(".dag-minimap")).to_be_hidden()  # all of it is in view
    page.click("text=Jump to failing step")
    node = page.locator(f"#run{culprit.pk}")
    assert scale(page) >= 0.99  # drawn at least life size, readable (waits for the drawing)
    assert inside(node.bounding_box(), page.locator("[data-dag-view]").bounding_box())
    expect(node.locator('polygon[stroke="#cf222e"]')).to_have_count(1)  # outlined: the culprit
    page.screenshot(path=str(shots / "dag-2000-failing-step.png"))
    # zoomed in, the minimap shows where this is in the whole; a click there goes there
    minimap = page.locator(".dag-minimap")
    expect(minimap).to_be_visible()
    before = page.locator(".svg-pan-zoom_viewport").get_attribute("transform")
    minimap.click(position={"x": 10, "y": 10})
    scale(page)
    assert page.locator(".svg-pan-zoom_viewport").get_attribute("transform") != before
    page.click("text=Jump to failing step")
    # the steps it took down are drawn dashed and say "upstream failed"; only it is outlined
    titles = page.locator("[data-dag-view] > svg g.node a").evaluate_all(
        "links => links.map(a => a.getAttribute('xlink:title'))"
    )
    victims = sum("upstream failed" in title for title in titles)
    assert victims >= 1
    expect(page.locator('[data-dag-view] > svg g.node polygon[stroke="#cf222e"]')).to_have_count(1)
    # zoom and position survive a live refresh that brings news: steps have moved on
    kept = scale(page)
    page.evaluate("document.querySelector('.svg-pan-zoom_viewport').dataset.old = 'yes'")
    big_flow.emulator.scenario.advance(120)
    sync.poll_backend(big_flow.pk)
    expect(page.locator(".svg-pan-zoom_viewport:not([data-old])")).to_have_count(1)
    assert scale(page) == pytest.approx(kept, rel=0.01)
    assert inside(node.bounding_box(), page.locator("[data-dag-view]").bounding_box())
    # once the rest of the flow has run, the run has failed: the same path from its page
    scenario = big_flow.emulator.scenario
    ends = scenario.find_seq("ocp", int(run.external_id)).end
    scenario.advance((ends - scenario.now()).total_seconds() + 60)
    sync.poll_backend(big_flow.pk)
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    expect(page.locator("h1 .badge")).to_contain_text("Failed")
    expect(error).to_contain_text(culprit.name)
    assert error.bounding_box()["y"] + error.bounding_box()["height"] <= 900
    page.click("text=Jump to failing step")
    assert scale(page) >= 0.99
    assert inside(node.bounding_box(), page.locator("[data-dag-view]").bounding_box())
    page.locator("#failing a").click()
    expect(page.locator("h1")).to_contain_text(culprit.name)
    page.click("text=Load the log")
    first_error = page.locator("pre.log .err").first
    expect(first_error).to_be_visible()
    assert inside(first_error.bounding_box(), page.locator("pre.log").bounding_box())


def test_the_gantt_and_the_grid_of_a_2000_step_flow(page, live_server, big_flow, shots):
    run = (
        Instance.objects.filter(
            backend=big_flow, parent__isnull=True, children__status=Status.FAILED
        )
        .distinct()
        .get()
    )
    log_in(page, live_server)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    page.locator("h2", has_text="Timeline").first.evaluate("heading => heading.scrollIntoView()")
    expect(page.locator(".gantt-bars rect.bar")).to_have_count(200)  # the first 200 by start
    expect(page.locator("text=show all steps").first).to_be_visible()
    page.screenshot(path=str(shots / "gantt-2000.png"))
    page.goto(f"{live_server.url}/definitions/{big_flow.pk}/?id={run.definition_id}")
    expect(page.locator("table.grid tbody tr")).to_have_count(100)  # steps paged by 100
    page.screenshot(path=str(shots / "grid-2000.png"))
    page.click("text=Only the 1 step that failed in these runs")
    expect(page.locator("table.grid tbody tr")).to_have_count(1)
    page.locator("table.grid td.sq.FAILED a").click()
    expect(page.locator("h1")).to_contain_text(run.children.get(status=Status.FAILED).name)

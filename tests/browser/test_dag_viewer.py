"""The DAG viewer in Chromium: the graph opens fitted, "jump to failing step" brings the
culprit into view, find marks steps by name, and zoom and position survive a live refresh."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from instances import sync
from instances.models import Instance, Status
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def inside(inner: dict, outer: dict) -> bool:
    return (
        inner["x"] >= outer["x"] - 1
        and inner["y"] >= outer["y"] - 1
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
    )


def scale(page) -> float:
    """The drawn scale, once svg-pan-zoom has applied it (it does so on the next frame)."""
    page.evaluate(
        "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    transform = page.locator(".svg-pan-zoom_viewport").get_attribute("transform") or ""
    return float(re.match(r"matrix\(([-\d.e]+)", transform).group(1))


def running_flow(backend) -> Instance:
    """A running top-level run of the backend that has steps: its page refreshes live."""
    return (
        Instance.objects.filter(
            backend=backend, parent__isnull=True, status=Status.RUNNING, children__isnull=False
        )
        .distinct()
        .first()
    )


def fail_and_poll(emulator, backend, run: Instance) -> None:
    """News for a live page: the vendor says the run failed, and a poll stores it."""
    httpx.post(
        f"{emulator.base_url}/_emulator/runs/ocp/{run.external_id}/status",
        json={"status": "failed"},
    )
    sync.poll_backend(backend.pk)


def test_jump_to_the_failing_step_and_find_steps(page, live_server, polled_ocp, shots):
    failed = (
        Instance.objects.filter(
            backend=polled_ocp,
            parent__isnull=True,
            status=Status.FAILED,
            children__status=Status.FAILED,
        )
        .distinct()
        .first()
    )
    log_in(page, live_server)
    page.goto(f"{live_server.url}/runs/{failed.pk}/")
    view = page.locator("[data-dag-view]")
    expect(page.locator(".svg-pan-zoom_viewport")).to_have_count(1)  # the viewer started
    page.click("text=Jump to failing step")
    culprit = page.locator(
        "[data-dag-view] > svg g.node", has=page.locator('polygon[stroke="#cf222e"]')
    ).first
    assert inside(culprit.bounding_box(), view.bounding_box())
    name = failed.children.order_by("pk").first().name
    page.fill("[data-dag-find]", name)
    expect(page.locator("[data-dag-view] > svg g.node.found")).to_have_count(1)
    expect(page.locator("[data-dag-count]")).to_have_text("1 found")
    page.screenshot(path=str(shots / "dag-viewer.png"))
    page.click("text=top to bottom")
    expect(page).to_have_url(re.compile(r"layout=TB"))
    expect(page.locator(".svg-pan-zoom_viewport")).to_have_count(1)


def test_zoom_find_and_focus_survive_a_live_refresh(page, live_server, polled_ocp, emulator):
    running = running_flow(polled_ocp)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/runs/{running.pk}/")
    expect(page.locator(".svg-pan-zoom_viewport")).to_have_count(1)
    for _ in range(3):
        page.click("[data-dag-action=in]")
    step = running.children.order_by("pk").first().name
    page.fill("[data-dag-find]", step)  # keyboard focus is in the find box now
    expect(page.locator("[data-dag-count]")).to_have_text("1 found")
    zoomed = scale(page)
    fail_and_poll(emulator, polled_ocp, running)
    expect(page.locator("h1 .badge")).to_contain_text("Failed")  # the page was refreshed
    expect(page.locator(".svg-pan-zoom_viewport")).to_have_count(1)
    assert scale(page) == pytest.approx(zoomed, rel=0.01)
    # what the reader set up is still there: the step found, the focus, the find text
    expect(page.locator("[data-dag-view] > svg g.node.found")).to_have_count(1)
    assert page.evaluate("document.activeElement.id") == "dag-find"
    expect(page.locator("[data-dag-find]")).to_have_value(step)


def test_an_idle_refresh_leaves_the_graph_as_it_was(
    page, live_server, polled_ocp, emulator, settings
):
    """A refresh with no news is answered 304, which the browser hands on as its cached copy:
    the graph on the page stays the very same, not drawn anew; news replaces it."""
    settings.RUNBOARD_REFRESH_SECONDS = 1
    running = running_flow(polled_ocp)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/runs/{running.pk}/")
    expect(page.locator(".svg-pan-zoom_viewport")).to_have_count(1)
    page.evaluate("document.querySelector('.svg-pan-zoom_viewport').dataset.drawn = 'first'")
    for _ in range(3):  # the first refresh after the page, then two answered 304
        with page.expect_request_finished(lambda r: r.headers.get("hx-request") == "true"):
            pass
    scale(page)  # a frame drawn after the last answer
    expect(page.locator(".svg-pan-zoom_viewport[data-drawn=first]")).to_have_count(1)
    fail_and_poll(emulator, polled_ocp, running)
    expect(page.locator("h1 .badge")).to_contain_text("Failed")
    expect(page.locator(".svg-pan-zoom_viewport")).to_have_count(1)
    expect(page.locator(".svg-pan-zoom_viewport[data-drawn=first]")).to_have_count(0)

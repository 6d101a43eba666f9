"""The timeline across every platform in a browser, at a desk and on a phone: every run of the
window is a bar that opens its run, a failed one among them; zoom in and pan by links (the
keyboard's too); nothing wider than the screen."""

import pytest
from playwright.sync_api import expect

from instances.models import Instance, Status
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1440, 375])
def test_bars_open_their_runs_and_the_window_zooms_and_pans(page, live_server, polled_ocp, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server)
    page.get_by_role("link", name="Timeline").click()
    expect(page.locator("h1")).to_contain_text("Timeline")
    bars = page.locator("svg.fleet a rect.bar")
    expect(bars.first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    drawn = {
        int(href.strip("/").split("/")[-1])
        for href in page.locator("svg.fleet a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
    }
    roots = Instance.objects.filter(
        backend=polled_ocp, parent__isnull=True, started_at__isnull=False
    )
    assert drawn and drawn <= set(roots.values_list("pk", flat=True))
    before = page.locator("h1 small").inner_text()
    page.get_by_role("link", name="zoom in").focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1 small")).not_to_have_text(before)
    page.get_by_role("link", name="← earlier").click()
    page.get_by_role("link", name="24 hours").click()
    failed = page.locator("svg.fleet a:has(rect.bar.FAILED)").first
    pk = int(failed.get_attribute("href").strip("/").split("/")[-1])
    assert Instance.objects.get(pk=pk).status == Status.FAILED
    failed.click()
    expect(page).to_have_url(f"{live_server.url}/runs/{pk}/")

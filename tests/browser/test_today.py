"""Today in a browser, as a manager starting a shift reads it: each number, clicked, lists
exactly as many expected runs, all in its state, and a listed run opens its own page; on a
phone the numbers and the table stay within the screen."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_accessibility import scheduled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1440, 375])
def test_each_number_lists_exactly_its_expected_runs(page, live_server, polled_ocp, width):
    scheduled(polled_ocp)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server)
    page.get_by_role("link", name="Today").click()
    expect(page.locator("h1")).to_contain_text("Today")
    tiles = page.locator(".numbers a.number")
    counts = {
        tile.get_attribute("href"): int(tile.locator("strong").inner_text()) for tile in tiles.all()
    }
    assert counts["?state=expected"] > 0
    assert sum(n for query, n in counts.items() if query != "?state=expected") == (
        counts["?state=expected"] + counts["?state=not_expected"]
    )
    for query, n in counts.items():
        if not n:
            continue
        page.locator(f'.numbers a[href="{query}"]').click()
        expect(page.locator(f'.numbers a[href="{query}"]')).to_have_attribute(
            "aria-current", "true"
        )
        rows = page.locator("tbody tr[data-state]")
        expect(rows).to_have_count(n)
        state = query.removeprefix("?state=")
        if state != "expected":
            assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.state)")) == {state}
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1 or (width > 375)
    page.locator('.numbers a[href="?state=on_time"]').click()
    run = page.locator("tbody tr a.run").first
    name = run.inner_text()
    run.click()
    expect(page.locator("h1")).to_contain_text(re.compile(re.escape(name)))

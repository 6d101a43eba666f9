"""A run whose vendor strings are hostile, opened in real Chromium: its DAG has exactly its own
steps, every link stays on Runboard, nothing runs (no dialog) and the console stays clean
(the page fixture fails the test on any console error or CSP violation)."""

import pytest
from playwright.sync_api import expect

from instances.connectors.base import LogChunk
from tests.browser.conftest import log_in
from tests.test_hostile_strings import HOSTILE, hostile_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# where each link leads, for HTML links and SVG ones alike
ORIGINS = "els => els.map(e => new URL(e.href.baseVal ?? e.href, location.href).origin)"


@pytest.mark.parametrize(
    "kind", ["dot_breakout", "html", "html_like_label", "backslash_end", "bidi", "javascript_url"]
)
def test_a_hostile_runs_page_shows_its_steps_and_nothing_more(
    page, live_server, fake, kind, monkeypatch, tmp_path
):
    text = HOSTILE[kind]
    _, flow, *_ = hostile_run(fake, text)
    monkeypatch.setattr(fake, "fetch_log", lambda *_: LogChunk(text=text, truncated=False))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, live_server)
    page.goto(f"{live_server.url}/runs/{flow.pk}/")
    expect(page.locator("h1")).to_contain_text(text)
    nodes = page.locator("[data-dag-view] > svg g.node")
    expect(nodes).to_have_count(2)
    for node in nodes.all():
        expect(node.locator("text").first).to_have_text(text[:60])
    assert set(page.locator("a").evaluate_all(ORIGINS)) == {live_server.url}
    page.screenshot(path=str(tmp_path / f"hostile-{kind}.png"), full_page=True)  # to look at
    page.locator("#failing a").click()
    page.click("text=Load the log")
    expect(page.locator("pre.log")).to_have_text(text)
    assert dialogs == []

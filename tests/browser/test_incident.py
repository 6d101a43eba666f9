"""On-call in the middle of an incident, in Chromium: the page keeps the reader's place through
live refreshes, a drag pans the graph, the log opens where the eye is, the filters say what
they filter, a pasted vendor id opens its run, and the keyboard's place is plain to see."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from instances.models import Instance, Status
from tests.browser.conftest import log_in
from tests.browser.test_big_flow import big_flow  # noqa: F401 (a fixture)
from tests.browser.test_dag_viewer import scale
from tests.factories import InstanceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1440, "height": 900}


def failing_and_running(backend) -> Instance:
    """The 2,000-step run with a failed step while the rest runs on: its page refreshes live
    and its graph draws the failed and running steps (focus mode)."""
    run = Instance.objects.filter(
        backend=backend, parent__isnull=True, children__status=Status.FAILED
    ).distinct()
    return run.get(status=Status.RUNNING)


def open_run(page, live_server, run: Instance) -> None:
    """On-call's desktop, the run's page open and its graph's viewer started."""
    log_in(page, live_server)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    expect(page.locator(".svg-pan-zoom_viewport")).to_have_count(1)


def refreshed(page, run: Instance, times: int = 2) -> None:
    """Live refreshes that redraw the run's page (it changed each time), as a poll would,
    each waited for until htmx has swapped it in and settled."""
    for _ in range(times):
        page.evaluate("document.querySelector('#live').dataset.old = 'yes'")
        Instance.objects.filter(pk=run.pk).update(updated_at=timezone.now())
        page.wait_for_function(
            "() => { const live = document.querySelector('#live');"
            " return live && !live.dataset.old && !live.classList.contains('htmx-settling') }"
        )


def test_a_live_refresh_after_zooming_keeps_the_reader_where_they_were(
    page,
    live_server,
    big_flow,  # noqa: F811
):
    run = failing_and_running(big_flow)
    open_run(page, live_server, run)
    expect(page.locator("#live[data-live]")).to_have_count(1)
    assert page.locator("[data-dag-view] > svg g.node").count() > 50
    for _ in range(3):
        page.click("[data-dag-action=in]")
    zoomed = scale(page)
    page.evaluate("window.scrollTo(0, 250)")
    refreshed(page, run)
    assert abs(page.evaluate("window.scrollY") - 250) <= 50
    assert scale(page) == pytest.approx(zoomed, rel=0.01)


def test_a_drag_that_starts_on_a_step_pans_and_a_click_opens_it(
    page,
    live_server,
    big_flow,  # noqa: F811
):
    run = failing_and_running(big_flow)
    open_run(page, live_server, run)
    page.click("text=Jump to failing step")  # the culprit, centred in the frame
    node = page.locator(f"[data-dag-view] > svg g#run{run.children.get(status='FAILED').pk} a")
    scale(page)  # svg-pan-zoom has drawn the jump
    box = node.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = page.locator(".svg-pan-zoom_viewport").get_attribute("transform")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 120, y + 60, steps=8)
    page.mouse.up()
    scale(page)
    assert page.locator(".svg-pan-zoom_viewport").get_attribute("transform") != before  # panned
    assert page.url.endswith(f"/runs/{run.pk}/")  # and still on the run: the drag opened nothing
    moved = node.bounding_box()
    page.mouse.click(moved["x"] + moved["width"] / 2, moved["y"] + moved["height"] / 2)
    expect(page).not_to_have_url(f"{live_server.url}/runs/{run.pk}/")  # a click opens it


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1440", "375"])
def test_the_log_opens_at_its_error_in_view_and_focused(page, live_server, polled_ocp, size):
    step = Instance.objects.filter(
        backend=polled_ocp, parent__isnull=False, status=Status.FAILED, parent__status="FAILED"
    ).first()
    log_in(page, live_server)
    page.set_viewport_size(size)
    page.goto(f"{live_server.url}/runs/{step.pk}/")
    page.click("text=Load the log")
    expect(page.locator("pre.log")).to_be_visible()
    focused = page.locator(":focus")
    expect(focused).to_have_class("err")  # the error line has the keyboard
    box = focused.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"]  # and is in the window
    widths = page.evaluate(
        "[...document.querySelectorAll('pre.log, pre.raw')]"
        ".map(box => [box.scrollWidth, box.clientWidth])"
    )
    if size is PHONE:  # lines wrap on a phone: nothing runs off sideways
        assert all(scrolled <= shown + 1 for scrolled, shown in widths), widths
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]


def test_a_filter_names_its_choice_at_once_and_an_open_one_takes_no_extra_click(
    page, live_server, polled_ocp
):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/runs/")
    menu = page.locator("details.choices", has=page.locator("input[name=status]"))
    menu.locator("summary").click()
    menu.locator("input[value=FAILED]").check()
    expect(menu.locator(".picked")).to_have_text("Failed")  # at once, not after a reload
    expect(page).to_have_url(re.compile(r"status=FAILED"))
    expect(page.locator("#rows .badge:not(.FAILED)")).to_have_count(0)
    expect(menu).to_have_attribute("open", "")  # still open: one click on a run opens it
    first = page.locator("#rows a[id^=run-link]").last  # one the open menu does not cover
    href = first.get_attribute("href")
    first.click()
    expect(page).to_have_url(f"{live_server.url}{href}")


def test_a_pasted_vendor_id_and_enter_open_its_run_and_slash_finds_from_anywhere(
    page, live_server, polled_ocp
):
    run = Instance.objects.filter(backend=polled_ocp, parent__isnull=True).first()
    log_in(page, live_server)
    page.keyboard.press("/")  # on the overview, which has no list of its own
    box = page.locator("input[type=search]:focus")
    expect(box).to_have_attribute("name", "q")
    box.fill(run.external_id)
    box.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/runs/{run.pk}/")
    page.goto(f"{live_server.url}/runs/")
    page.keyboard.press("/")
    page.keyboard.type(run.external_id)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/runs/{run.pk}/")


def test_a_focused_row_stays_put_when_new_runs_arrive(page, live_server, polled_ocp):
    log_in(page, live_server)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/runs/")
    row = page.locator("#" + page.locator("#rows a[id^=run-link]").nth(8).get_attribute("id"))
    row.focus()
    before = row.bounding_box()["y"]
    for n in range(6):  # six new runs at the top of the list
        InstanceFactory(backend=polled_ocp, name=f"new run {n}", run_at=timezone.now())
    polled_ocp.__class__.objects.filter(pk=polled_ocp.pk).update(last_success_at=timezone.now())
    expect(page.locator("#rows", has_text="new run 5")).to_have_count(1)
    page.wait_for_function("!document.querySelector('#rows').classList.contains('htmx-settling')")
    assert page.evaluate("document.activeElement.id") == row.get_attribute("id")
    assert abs(row.bounding_box()["y"] - before) <= 2


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_focus_ring_is_plain_and_a_skip_link_comes_first(page, live_server, polled_ocp, theme):
    log_in(page, live_server)
    page.emulate_media(color_scheme=theme)
    page.goto(f"{live_server.url}/runs/")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("Skip to content")
    expect(skip).to_be_in_viewport()
    ring = skip.evaluate(
        "el => { const s = getComputedStyle(el);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor] }"
    )
    assert ring[0] == "solid" and float(ring[1].removesuffix("px")) >= 3
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert contrast(ring[2], background) >= 3, (ring, background)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the next stop is inside the page, past the top bar
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


def contrast(one: str, other: str) -> float:
    """WCAG contrast of two CSS rgb() colours."""

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in colour[colour.index("(") + 1 : -1].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted([luminance(one), luminance(other)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_phone_inbox_reads_as_cards_without_a_run_on_header(page, live_server, polled_ocp):
    log_in(page, live_server)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/failures/")
    header = page.locator("table.cards thead").bounding_box()
    assert header["height"] <= 1  # kept for screen readers, not shown as a paragraph
    kind = page.locator("td[data-label=Error] strong").first
    words = kind.inner_text()
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    # the error kind flows as words: not one letter a line (it broke into 15 lines here)
    assert kind.bounding_box()["height"] <= 2 * line + 1, words
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

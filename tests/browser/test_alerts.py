"""On-call acknowledges and silences from the Alerts page, in Chromium, as a staff member of
the team (not a superuser), with a page of 150 alerts; screenshots of both widths."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from instances.alerts.models import Alert
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_on_call_acknowledges_then_silences_from_the_alerts_page(
    page, live_server, alerting, shots
):
    UserFactory(username="mei", password="pw", is_staff=True, teams=[alerting])
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "mei")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    firing = Alert.objects.filter(state="firing").count()
    assert firing > 0
    badge = page.locator("#counters a", has_text="alert")
    expect(badge).to_have_text(f"⚠ {firing} alert{'s' if firing > 1 else ''}")
    badge.click()
    expect(page.locator("h1")).to_have_text("Alerts")
    for width in (1440, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"alerts-{width}.png"), full_page=width == 375)
    page.set_viewport_size({"width": 1440, "height": 900})
    first = page.locator("table.runs tbody tr a").first
    title = first.inner_text()
    first.click()
    expect(page.locator("h1")).to_contain_text(title)
    page.click("button:has-text('Acknowledge')")
    expect(page.locator("dl.facts")).to_contain_text("Acknowledged")
    expect(page.locator("dl.facts")).to_contain_text("by mei")
    page.select_option("select[name=for]", "4h")
    page.fill("input[name=reason]", "OCP maintenance window")
    page.click("button:has-text('Silence')")
    expect(page.locator("dl.facts")).to_contain_text("OCP maintenance window")
    history = page.locator("h2:has-text('History') + table")
    expect(history).to_contain_text("Acknowledged")
    expect(history).to_contain_text("Silenced")
    page.screenshot(path=str(shots / "alert-detail-1440.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 900})
    page.screenshot(path=str(shots / "alert-detail-375.png"), full_page=True)
    page.goto(f"{live_server.url}/alerts/?state=silenced")
    expect(page.locator("table.runs")).to_contain_text("OCP maintenance window")
    expect(badge).to_have_text(f"⚠ {firing - 1} alert{'s' if firing - 1 != 1 else ''}")
    alert = Alert.objects.get(silence_reason="OCP maintenance window")
    assert alert.acknowledged_by.username == "mei"
    assert alert.silenced_until > timezone.now() + timedelta(hours=3)

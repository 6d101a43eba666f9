"""A team admin manages people in the browser: invites a colleague by email, promotes them,
removes them; the colleague's pages, actions and API token follow at their next request."""

import re

import httpx
import pytest
from django.core import mail
from playwright.sync_api import expect

from instances.people import roles
from instances.people.models import Role
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in_as(tab, live_server, username: str) -> None:
    tab.goto(f"{live_server.url}/login/")
    tab.fill("#id_username", username)
    tab.fill("#id_password", "pw")
    tab.click("button[type=submit]")
    expect(tab.locator("h1")).to_have_text("Overview")


def test_a_team_admin_invites_promotes_and_removes_a_member(page, live_server):
    backend = BackendFactory(name="ledger backend")
    InstanceFactory(backend=backend, name="nightly ledger")
    team = backend.team
    roles.place(UserFactory(username="lead", password="pw"), team, Role.ADMIN)
    UserFactory(username="mei", password="pw", email="mei@example.com")
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in_as(page, live_server, "lead")
    page.click("nav >> text=Teams")
    page.click(f"main >> text={team.name}")
    page.fill("input[name=email]", "mei@example.com")
    page.click("text=Send the invitation")
    expect(page.locator("[role=status]")).to_contain_text("Invited mei@example.com as viewer")
    (message,) = mail.outbox
    link = re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)

    mei = page.context.browser.new_page(viewport={"width": 375, "height": 812})  # her phone
    log_in_as(mei, live_server, "mei")
    mei.goto(f"{live_server.url}/runs/?window=all")
    expect(mei.locator("main")).not_to_contain_text("nightly ledger")
    mei.goto(link)
    mei.click("text=Join the team")
    expect(mei.locator("h1")).to_have_text(team.name)
    mei.goto(f"{live_server.url}/runs/?window=all")
    expect(mei.locator("main")).to_contain_text("nightly ledger")
    mei.goto(f"{live_server.url}/backends/")
    expect(mei.locator("text=Poll now")).to_have_count(0)  # a viewer does not act
    mei.click("header summary:has-text('mei')")  # her menu, on her phone
    mei.click("text=Your teams and API tokens")
    mei.fill("input[name=name]", "laptop")
    mei.click("text=Make a token")
    key = mei.locator("code.token").inner_text()

    def runs_through_token() -> list:
        answer = httpx.get(
            f"{live_server.url}/api/v1/runs?window=all", headers={"Authorization": f"Bearer {key}"}
        )
        return answer.json()["runs"]

    assert [run["name"] for run in runs_through_token()] == ["nightly ledger"]

    page.reload()
    page.select_option("select[aria-label='role of mei']", "operator")
    page.locator("form", has=page.locator("select[aria-label='role of mei']")).locator(
        "text=Change"
    ).click()
    expect(page.locator("main table").first).to_contain_text("mei")
    mei.goto(f"{live_server.url}/backends/")
    expect(mei.locator("text=Poll now")).to_have_count(1)  # an operator does

    page.click("button[aria-label='remove mei from the team']")
    expect(page.locator("main table").last).to_contain_text("removed")
    mei.goto(f"{live_server.url}/runs/?window=all")
    expect(mei.locator("main")).not_to_contain_text("nightly ledger")
    mei.goto(f"{live_server.url}/backends/")
    expect(mei.locator("main")).not_to_contain_text("ledger backend")
    assert runs_through_token() == []
    mei.close()

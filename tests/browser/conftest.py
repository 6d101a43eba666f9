"""Shared for browser tests: headless Debian Chromium driven by Playwright, a live server,
the emulator polled once, a logged-in on-call user."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections, transaction
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from instances import sync
from instances.alerts import evaluate
from instances.alerts.models import Alert, AlertRule, Channel
from instances.models import Backend, Instance, Status
from instances.vendors.ocp import demo as ocp_demo
from tests.acting.conftest import on_emulator, ops_team, people  # noqa: F401 (fixtures)
from tests.factories import GroupFactory, UserFactory

# RUNBOARD_SCREENSHOTS=1 refreshes the README's screenshots in docs/; otherwise they go to a
# temporary folder, so running the tests never changes the working tree.
DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # a container's /dev/shm is often 64 MB: Chromium's tabs crash there ("Target closed")
    "--disable-dev-shm-usage",
]


@pytest.fixture
def page(live_server, monkeypatch, request):
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # meanwhile are plain synchronous calls, which Django would otherwise refuse.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        zone = request.node.get_closest_marker("browser_zone")  # the OS zone, UTC unless said
        locale = request.node.get_closest_marker("browser_locale")  # en-US unless said
        tab = browser.new_page(
            viewport={"width": 1280, "height": 900},
            timezone_id=zone.args[0] if zone else None,
            locale=locale.args[0] if locale else None,
        )
        tab.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
        tab.on("pageerror", lambda exc: problems.append(str(exc)))
        tab.set_default_timeout(15_000)
        yield tab
        browser.close()
        # the ORM calls made inside Playwright's loop got connections of their own: closed
        # here, or the test database cannot be dropped at the end of the run
        connections.close_all()
    assert problems == [], problems  # CSP violations are reported as console errors


@pytest.fixture
def shots(tmp_path) -> Path:
    return DOCS if os.environ.get("RUNBOARD_SCREENSHOTS") else tmp_path


@pytest.fixture
def polled_ocp(emulator, settings):
    settings.RUNBOARD_REFRESH_SECONDS = 1
    backend = Backend(name="OCP (emulated)", kind="ocp", base_url=emulator.base_url)
    backend.credentials = {"username": ocp_demo.USER, "password": ocp_demo.PASSWORD}
    backend.save()
    sync.poll_backend(backend.pk)
    return backend


@pytest.fixture
def alerting(polled_ocp):
    """The polled OCP backend in team "data", a failure rule with a webhook, its failed runs
    alerting, and older resolved alerts to fill the page."""
    team = GroupFactory(name="data")
    Backend.objects.filter(pk=polled_ocp.pk).update(team=team)  # its health as the poll left it
    polled_ocp.refresh_from_db()
    hook = Channel(team=team, name="ops hook", kind="webhook")
    hook.target = "http://127.0.0.1:9/hook"  # nobody listens: its deliveries show as failing
    hook.save()
    rule = AlertRule.objects.create(team=team, name="failures", kind="failed")
    rule.channels.add(hook)
    failed = Instance.objects.filter(backend=polled_ocp, parent__isnull=True, status=Status.FAILED)
    now = timezone.now()
    with transaction.atomic():
        evaluate.on_transitions(polled_ocp, [(run.pk, "RUNNING", "FAILED") for run in failed], now)
    old = now - timedelta(days=2)
    Alert.objects.bulk_create(
        Alert(
            rule=rule,
            key=f"old-{n}",
            state="resolved",
            backend=polled_ocp,
            definition_id=f"nightly_{n}",
            title=f"nightly load {n} failed on OCP (emulated)",
            culprit="load warehouse #3",
            error_line="ORA-01555: snapshot too old " * 3,
            opened_at=old,
            updated_at=old,
            resolved_at=old + timedelta(hours=1),
        )
        for n in range(150)
    )
    return team


def log_in(page, live_server, heading: str = "Overview"):
    UserFactory(username="oncall", password="pw", is_superuser=True, is_staff=True)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "oncall")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text(heading)


def choose(page, name: str, value: str) -> None:
    """Tick one box of a filter's dropdown (status, backend, kind), as a reader does."""
    box = page.locator(f"input[type=checkbox][name={name}][value='{value}']")
    menu = page.locator("details.dropdown", has=box)
    menu.locator("summary").click()
    box.check()
    page.keyboard.press("Escape")  # closes the menu, as a click elsewhere would
    expect(menu).not_to_have_attribute("open", "")

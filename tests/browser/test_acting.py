"""On-call acts from Runboard, in Chromium, with a real worker following the action: from the
inbox to the culprit, the move nearest to "retry" on each API, its preview, a reason, and the
run seen RUNNING with the action confirmed within two poll intervals and 5 s, then
SUCCEEDED."""

import time

import pytest
from playwright.sync_api import expect

from instances import tasks
from instances.acting.models import Action
from instances.models import Backend, Instance, Status
from instances.registry import CONNECTORS
from tests.acting.test_acting import NEAREST_RETRY
from tests.processes import database_env, wait_for, worker

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def sign_in_as(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Overview")


@pytest.mark.parametrize(("kind", "name", "move", "on_step"), NEAREST_RETRY)
def test_from_the_inbox_to_the_culprit_to_a_confirmed_retry(
    page, live_server, on_emulator, people, emulator, settings, tmp_path, kind, name, move, on_step
):
    settings.RUNBOARD_REFRESH_SECONDS = 1
    backend = on_emulator(kind, name)
    Backend.objects.filter(pk=backend.pk).update(poll_interval=5)
    sign_in_as(page, live_server, "operator-person")
    with worker(tmp_path / "worker.log", database_env()):
        page.goto(f"{live_server.url}/failures/")
        page.locator("td[data-label='Failing step'] a").first.click()  # the culprit
        button = page.locator(f"a.action-offer[href$='/act/{move}/']").first
        target = Instance.objects.get(pk=int(button.get_attribute("href").split("/")[2]))
        run = target.parent or target
        button.click()
        expect(page.locator("h2", has_text="What it touches")).to_be_visible()
        page.fill("textarea[name=reason]", "INC-7 upstream fixed")
        asked = time.monotonic()
        page.locator("form.act button[type=submit]").click()
        actions = page.locator("#actions")
        expect(actions).to_contain_text("INC-7 upstream fixed")
        expect(actions.locator(".action-state")).to_have_text(
            "confirmed", timeout=2 * 5_000 + 5_000
        )
        took = time.monotonic() - asked
        print(f"{kind} {name} {move}: confirmed on the page {took:.1f} s after the click")
        assert took < 2 * 5 + 5
        if not CONNECTORS[kind].moves[move].new_run:  # retried in place: the same run runs
            expect(page.locator("h1 .badge")).to_contain_text("Running")
        action = Action.objects.get(run=target)
        assert action.state == "confirmed" and action.person_name == "operator-person"
        assert action.url and action.reason and action.vendor_status and action.preview
        assert action.answered_at and action.ended_at and action.outcome

        emulator.scenario.advance(3600)  # the rerun ends, in the vendor's time
        tasks.poll_backend.delay(backend.pk)
        followed = action.new_run_id or run.external_id
        wait_for(
            lambda: (
                Instance.objects.get(backend=backend, external_id=followed).status
                == Status.SUCCEEDED
            ),
            30,
            "the rerun succeeding",
        )
    if not action.new_run_id:
        page.goto(f"{live_server.url}/runs/{run.pk}/")
        expect(page.locator("h1 .badge")).to_contain_text("Succeeded")

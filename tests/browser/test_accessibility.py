"""axe-core on every page, in light and dark (the system's theme), at 1440 and 375 px: no
serious or critical violation. Each page's screenshot goes to docs/screens/ (to look at)."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from instances.alerts.models import Alert, AlertRule, DeadlineDay, Delivery
from instances.models import DataProduct, Instance, Schedule, Status
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Axe()
BLOCKING = {"serious", "critical"}


def violations(page) -> list[str]:
    """What axe finds serious or critical on the page as it is now, one line per rule."""
    found = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} nodes, e.g. "
        f"{v['nodes'][0]['target']} {v['nodes'][0].get('failureSummary', '')[:200]}"
        for v in found
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("width", [1440, 375])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_passes_axe(page, live_server, polled_ocp, alerting, shots, theme, width):
    page.emulate_media(color_scheme=theme)
    page.set_viewport_size({"width": width, "height": 900})
    folder = shots / "screens"
    folder.mkdir(exist_ok=True)
    page.goto(f"{live_server.url}/login/")
    problems = {"login": violations(page)}
    page.screenshot(path=str(folder / f"login-{theme}-{width}.png"))
    log_in(page, live_server)
    for name, path in every_page(polled_ocp, alerting).items():
        open_page(page, live_server, name, path)
        problems[name] = violations(page)
        page.screenshot(path=str(folder / f"{name}-{theme}-{width}.png"))
    report = [f"{name}: {line}" for name, found in problems.items() for line in found]
    assert report == [], "\n".join(report)


def open_page(page, live_server, name: str, path: str) -> None:
    """One of every_page's pages, in the state it is read in."""
    page.goto(f"{live_server.url}{path}")
    if name == "step":  # with its log open
        page.click("#log button")
        expect(page.locator("pre.log")).to_be_visible()
    if name == "rule-form":  # a stale rule: no definition, streak or schedule fields
        page.select_option("select[name=kind]", "stale")
        expect(page.locator("input[name=after_failures]")).to_be_hidden()


def every_page(polled_ocp, alerting) -> dict[str, str]:
    """Every page in the states on-call reads, by name: a failed run with an earlier try of
    its step, a channel giving up, runs gone, people in each role, actions taken."""
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
    step = failed.children.filter(status=Status.FAILED).first()
    Instance.objects.filter(pk=step.pk).update(attempts=2)
    step.tries.create(  # a try before this one, with its own error and log
        number=1,
        status=Status.FAILED,
        error_message="java.lang.OutOfMemoryError: Java heap space",
        log_locator=step.log_locator,
    )
    given_up_and_gone(polled_ocp)
    scheduled(polled_ocp)
    oncall = people_in(alerting)
    acted_on(failed, oncall)
    return {
        "overview": "/",
        "today": "/today/",
        "timeline": "/timeline/",
        "timeline-products": "/timeline/?by=product",
        "runs": "/runs/",
        "failures": "/failures/",
        "grid": f"/definitions/{polled_ocp.pk}/?id={failed.definition_id}",
        "run": f"/runs/{failed.pk}/",
        "compare": f"/runs/{failed.pk}/compare/",
        "step": f"/runs/{step.pk}/",
        "backends": "/backends/",
        "alerts": "/alerts/",
        "alert": f"/alerts/{Alert.objects.filter(state='firing')[0].pk}/",
        "alert-channels": "/alerts/channels/",
        "rule-form": "/alerts/rules/new",
        "teams": "/teams/",
        "team": f"/teams/{alerting.pk}/",
        "person": f"/people/{oncall.pk}/",
        "act": f"/runs/{failed.pk}/act/retry/",
        "team-actions": f"/teams/{alerting.pk}/actions/",
    }


def acted_on(run, person):
    """The run's backend may act, and on-call retried the run once before (confirmed), and
    was refused once."""
    from instances.acting.models import Action
    from instances.models import Backend

    Backend.objects.filter(pk=run.backend_id).update(may_act=True)
    common = {
        "person": person,
        "person_name": person.username,
        "role": "admin",
        "team_id": run.backend.team_id,
        "team_name": "data",
        "backend_id": run.backend_id,
        "backend_name": run.backend.name,
        "run": run,
        "run_external_id": run.external_id,
        "move": "retry",
        "before": {"status": "FAILED"},
    }
    Action.objects.create(
        key="a1",
        reason="INC-1042: the warehouse is back",
        state="confirmed",
        credential="acting credential (ops)",
        method="POST",
        url=f"{run.backend.base_url}/api/v2/tasks/instances/{run.external_id}/retry",
        vendor_status=200,
        request_id="7f3a9c2e41d05b18",
        outcome="It went failed → running.",
        **common,
    )
    Action.objects.create(
        key="a2",
        reason="again",
        state="denied",
        outcome="Another action on this run is in flight.",
        **common,
    )


def people_in(team):
    """A team with members in each role, an open invitation and a history; the on-call
    person (signed in) with a live and a revoked token."""
    from django.core import mail
    from django.utils import timezone

    from instances.models import ApiToken
    from instances.people import invitations, roles
    from instances.people.models import Role
    from tests.factories import UserFactory

    oncall = UserFactory._meta.model.objects.get(username="oncall")
    for name, role in (("mei", Role.ADMIN), ("陈静", Role.OPERATOR), ("ravi", Role.VIEWER)):
        roles.place(UserFactory(username=name), team, role, by=oncall)
    invitations.invite(team, "new@example.com", Role.VIEWER, oncall, lambda key: key)
    mail.outbox.clear()
    ApiToken.issue(oncall, "grafana")
    ApiToken.issue(oncall, "old laptop")
    ApiToken.objects.filter(name="old laptop").update(revoked_at=timezone.now())
    return oncall


def given_up_and_gone(backend) -> None:
    """The states on-call must read at a glance too: a message given up (the channel
    failing, in the top bar on every page) and runs the vendor no longer knows (gone)."""
    from django.utils import timezone

    Delivery.objects.filter(pk=Delivery.objects.order_by("pk").values("pk")[:1]).update(
        state=Delivery.State.DEAD, attempts=5, response_code=503, error="HTTP 503"
    )
    newest = Instance.objects.filter(backend=backend, parent__isnull=True).order_by("-run_at")
    Instance.objects.filter(pk__in=newest.values("pk")[:2]).update(gone_at=timezone.now())


def scheduled(backend) -> None:
    """Its definitions on schedules (OCP gives none; EnOS and Airflow would): hourly, on the
    minute its runs start, so today has expected runs in every state."""
    definitions = Instance.objects.filter(backend=backend, parent__isnull=True)
    minutes = dict(definitions.values_list("definition_id", "run_at__minute"))
    Schedule.objects.bulk_create(
        Schedule(
            backend=backend,
            definition_id=definition,
            definition_name=f"{definition} hourly",
            cron=f"0 {minute} * * * ?",
            seen_at=timezone.now(),
        )
        for definition, minute in minutes.items()
    )
    if backend.team is not None:  # and a month of their deadlines, one missed in four
        rule = AlertRule.objects.create(team=backend.team, name="by 09:00", kind="late")
        report = DataProduct.objects.create(team=backend.team, name="早间报表 morning report")
        for definition in sorted(minutes)[:3]:
            report.parts.create(backend=backend, definition_id=definition)
        DeadlineDay.objects.bulk_create(
            DeadlineDay(
                rule=rule,
                backend=backend,
                definition_id=definition,
                day=timezone.localdate() - timedelta(days=ago),
                met=ago % 4 != 0,
            )
            for definition in minutes
            for ago in range(30)
        )

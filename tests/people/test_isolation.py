"""Zero leaks across teams for people who sign in through the identity provider, and
through the tokens of people removed from a team: every page and API they can reach shows
nothing of a team that is not theirs (any more)."""

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from instances import rollups
from instances.alerts.models import Alert, AlertRule, Channel
from instances.models import ApiToken, Backend, Status
from instances.people import roles
from instances.people.models import Role
from tests.factories import BackendFactory, GroupFactory, InstanceFactory, UserFactory
from tests.people import openid

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "THEIRS-SECRET"
ANA = {"email": "ana@example.com", "email_verified": True, "name": "Ana"}


@pytest.fixture
def two_teams():
    ours = BackendFactory(name="ours backend", team=GroupFactory(name="Data ops"))
    theirs = BackendFactory(name=f"{SECRET} backend", team=GroupFactory(name=f"{SECRET} team"))
    for backend, label in ((ours, "ours"), (theirs, SECRET)):
        flow = InstanceFactory(backend=backend, name=f"{label} flow", status=Status.FAILED)
        InstanceFactory(backend=backend, parent=flow, name=f"{label} step", status=Status.FAILED)
        channel = Channel.objects.create(team=backend.team, name=f"{label} hook", kind="webhook")
        rule = AlertRule.objects.create(team=backend.team, name=f"{label} rule", kind="failed")
        rule.channels.add(channel)
        Alert.objects.create(
            rule=rule,
            key=label,
            backend=backend,
            title=f"{label} flow failed",
            state="firing",
            opened_at=timezone.now(),
            updated_at=timezone.now(),
        )
    rollups.rebuild()
    their_lead = UserFactory(username=f"{SECRET}-lead")
    roles.place(their_lead, theirs.team, Role.ADMIN)
    return ours, theirs, their_lead


def everything_reachable(client: Client, theirs: Backend, their_lead) -> dict[str, str]:
    """What each page and API answers this reader: a leak would show SECRET in one."""
    their_run = theirs.instances.filter(parent=None).get()
    paths = [
        "/?window=30d",
        "/runs/?window=all",
        "/runs/?window=all&steps=1",
        "/runs/?window=all&q=flow",  # both teams' runs hold it
        "/runs/?window=all&q=step&steps=1",
        f"/runs/?window=all&backend={theirs.pk}",
        "/failures/?window=30d",
        "/alerts/",
        "/alerts/channels/",
        "/backends/",
        "/teams/",
        f"/teams/{theirs.team_id}/",
        f"/people/{their_lead.pk}/",
        f"/runs/{their_run.pk}/",
        f"/alerts/{Alert.objects.get(key=SECRET).pk}/",
        "/runs.csv?window=all",
        "/api/v1/runs?window=all",
        f"/api/v1/runs/{their_run.pk}",
        "/api/v1/summary?window=30d",
        "/api/v1/backends",
        "/metrics",
    ]
    answers = {}
    for path in paths:
        reply = client.get(path)
        body = (b"".join(reply.streaming_content) if reply.streaming else reply.content).decode()
        answers[path] = f"{reply.status_code} {body}"
    return answers


def leaks(answers: dict[str, str]) -> list[str]:
    return [path for path, answer in answers.items() if SECRET in answer]


def signed_in_ana(client, company, groups: list[str]):
    company.claims(ana={**ANA, "groups": groups})
    with httpx.Client() as browser:
        assert openid.sign_in_as(client, browser, "ana")["location"] == "/"
    return User.objects.get(email=ANA["email"])


def bearer(key: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {key}"})


def test_a_person_signed_in_through_the_provider_sees_nothing_of_another_team(
    client, company, two_teams
):
    _, theirs, their_lead = two_teams
    ana = signed_in_ana(client, company, ["data-ops-leads"])
    answers = everything_reachable(client, theirs, their_lead)
    assert "ours flow" in answers["/runs/?window=all"]  # she does see her own team's
    assert leaks(answers) == []
    token = bearer(ApiToken.issue(ana, "script"))
    assert leaks(everything_reachable(token, theirs, their_lead)) == []


def test_a_removed_members_token_and_session_see_nothing_of_their_former_team(
    client, company, two_teams
):
    _, theirs, their_lead = two_teams
    ana = signed_in_ana(client, company, ["data-ops"])
    roles.place(ana, theirs.team, Role.VIEWER, by=their_lead)  # given in Runboard
    token = bearer(ApiToken.issue(ana, "laptop"))
    assert f"{SECRET} flow" in token.get("/api/v1/runs?window=all").content.decode()
    roles.place(ana, theirs.team, None, by=their_lead)
    assert leaks(everything_reachable(token, theirs, their_lead)) == []
    assert leaks(everything_reachable(client, theirs, their_lead)) == []

"""Teams managed in Runboard's own pages by their team admins: invitations by email,
roles, removal, each audited; a person's API tokens, which read as their person may now."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from instances.models import ApiToken
from instances.people import roles
from instances.people.models import Membership, MembershipChange, Role
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    backend = BackendFactory(name="ops backend")
    InstanceFactory(backend=backend, name="nightly ledger")
    lead = UserFactory(username="lead", email="lead@example.com")
    roles.place(lead, backend.team, Role.ADMIN)
    return backend.team, lead


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bearer(key: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {key}"})


def invitation_link() -> str:
    (message,) = mail.outbox
    return re.search(r"http://testserver(/invitations/\S+/)", message.body).group(1)


def test_an_invited_person_joins_with_the_role_and_the_change_is_audited(team):
    team, lead = team
    mei = UserFactory(username="mei", email="Mei@Example.com")
    answer = logged_in(lead).post(
        f"/teams/{team.pk}/manage",
        {"action": "invite", "email": "mei@example.com", "role": "operator"},
    )
    assert answer.status_code == 302
    assert mail.outbox[0].to == ["mei@example.com"] and team.name in mail.outbox[0].subject
    link = invitation_link()
    client = logged_in(mei)
    assert "nightly ledger" not in client.get("/runs/?window=all").text
    assert client.post(link).status_code == 302
    assert Membership.objects.get(user=mei, team=team).role == Role.OPERATOR
    assert "nightly ledger" in client.get("/runs/?window=all").text  # the next request
    change = MembershipChange.objects.get(person=mei)
    assert (change.what, change.role, change.by) == ("joined", "operator", lead)
    assert client.post(link).status_code == 404  # once only


def test_an_invitation_is_for_its_address_only(team):
    team, lead = team
    logged_in(lead).post(
        f"/teams/{team.pk}/manage",
        {"action": "invite", "email": "mei@example.com", "role": "viewer"},
    )
    other = logged_in(UserFactory(email="someone@example.com"))
    assert "is for mei@example.com" in other.post(invitation_link()).text
    assert not Membership.objects.filter(team=team, user__email="someone@example.com").exists()


def test_a_newcomer_chooses_a_password_and_joins(team):
    team, lead = team
    logged_in(lead).post(
        f"/teams/{team.pk}/manage",
        {"action": "invite", "email": "new@example.com", "role": "viewer"},
    )
    client = Client()
    answer = client.post(
        invitation_link(),
        {"new_password1": "a long passphrase 42", "new_password2": "a long passphrase 42"},
    )
    assert answer.status_code == 302
    assert Membership.objects.get(team=team, user__username="new@example.com").role == "viewer"
    assert "nightly ledger" in client.get("/runs/?window=all").text


def test_a_team_name_cannot_add_a_header_to_the_invitation(team):
    team, lead = team
    team.name = "Ops\r\nBcc: everyone@example.com"
    team.save()
    logged_in(lead).post(
        f"/teams/{team.pk}/manage",
        {"action": "invite", "email": "mei@example.com", "role": "viewer"},
    )
    (message,) = mail.outbox
    assert message.subject == "Join Ops Bcc: everyone@example.com on Runboard"
    assert message.bcc == [] and message.to == ["mei@example.com"]


def test_promoting_and_removing_take_effect_at_the_next_request(team):
    team, lead = team
    mei = UserFactory(username="mei")
    roles.place(mei, team, Role.VIEWER, by=lead)
    client, key = logged_in(mei), ApiToken.issue(mei, "script")
    admin = logged_in(lead)
    assert client.get(f"/teams/{team.pk}/").status_code == 200
    assert (
        client.post(f"/teams/{team.pk}/manage", {"action": "remove", "person": lead.pk}).status_code
        == 404
    )
    admin.post(f"/teams/{team.pk}/manage", {"action": "role", "person": mei.pk, "role": "admin"})
    assert roles.may(mei, Role.ADMIN, team.pk)
    assert "Send the invitation" in client.get(f"/teams/{team.pk}/").text
    admin.post(f"/teams/{team.pk}/manage", {"action": "remove", "person": mei.pk})
    assert client.get(f"/teams/{team.pk}/").status_code == 404
    assert "nightly ledger" not in client.get("/runs/?window=all").text
    assert bearer(key).get("/api/v1/runs?window=all").json()["runs"] == []
    kept = MembershipChange.objects.filter(person=mei).order_by("pk")
    assert [(c.what, c.role) for c in kept] == [
        ("joined", "viewer"),
        ("role", "admin"),
        ("left", ""),
    ]


def test_a_team_keeps_its_last_admin(team):
    team, lead = team
    admin = logged_in(lead)
    answer = admin.post(
        f"/teams/{team.pk}/manage",
        {"action": "role", "person": lead.pk, "role": "viewer"},
        follow=True,
    )
    assert "keeps at least one team admin" in answer.text
    assert roles.may(lead, Role.ADMIN, team.pk)


def test_a_person_makes_tokens_that_expire_and_revokes_them(team):
    team, lead = team
    client = logged_in(lead)
    page = client.post(f"/people/{lead.pk}/", {"name": "grafana", "days": "30"}).text
    key = re.search(r'<code class="token">([^<]+)</code>', page).group(1)
    token = ApiToken.objects.get(user=lead)
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert bearer(key).get("/api/v1/runs?window=all").json()["runs"]
    assert key not in client.get(f"/people/{lead.pk}/").text  # shown once
    client.post(f"/people/{lead.pk}/", {"action": "revoke", "token": token.pk})
    assert bearer(key).get("/api/v1/runs").status_code == 401


def test_an_expired_token_or_a_deactivated_persons_reads_nothing(team):
    team, lead = team
    expired, live = ApiToken.issue(lead, "old", days=1), ApiToken.issue(lead, "new")
    ApiToken.objects.filter(name="old").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bearer(expired).get("/api/v1/runs").status_code == 401
    assert bearer(live).get("/api/v1/runs").status_code == 200
    lead.is_active = False
    lead.save()
    assert bearer(live).get("/api/v1/runs").status_code == 401


def test_a_team_admin_revokes_a_members_token_and_a_stranger_sees_no_ones_page(team):
    team, lead = team
    mei = UserFactory(username="mei")
    roles.place(mei, team, Role.VIEWER)
    key = ApiToken.issue(mei, "laptop")
    stranger = logged_in(UserFactory())
    assert stranger.get(f"/people/{mei.pk}/").status_code == 404
    assert stranger.post(f"/people/{mei.pk}/", {"action": "revoke", "token": 1}).status_code == 404
    admin = logged_in(lead)
    assert "laptop" in admin.get(f"/people/{mei.pk}/").text
    admin.post(f"/people/{mei.pk}/", {"action": "revoke", "token": mei.api_tokens.get().pk})
    assert bearer(key).get("/api/v1/runs").status_code == 401
    admin.post(f"/people/{mei.pk}/", {"name": "made for her", "days": "30"})
    assert mei.api_tokens.count() == 1  # only a person makes their own tokens


def test_a_superuser_makes_a_team_and_a_member_only_sees_their_own(team):
    team, lead = team
    root = logged_in(UserFactory(is_superuser=True))
    answer = root.post("/teams/", {"name": "  Finance\n ops "})
    assert answer.status_code == 302
    listed = logged_in(lead).get("/teams/").text
    assert team.name in listed and "Finance ops" not in listed
    assert logged_in(lead).post("/teams/", {"name": "Sneaky"}).status_code == 200
    assert "Sneaky" not in logged_in(lead).get("/teams/").text


def test_the_teams_page_counts_every_member(team):
    team, lead = team
    for name in ("mei", "ravi"):
        roles.place(UserFactory(username=name), team, Role.VIEWER)
    rows = logged_in(lead).get("/teams/").context["rows"]
    assert [(listed, role, size) for listed, role, size in rows] == [(team, "Team admin", 3)]


def test_a_mail_server_that_fails_leaves_no_invitation_and_says_so(team, settings):
    team, lead = team
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nobody listens
    answer = logged_in(lead).post(
        f"/teams/{team.pk}/manage",
        {"action": "invite", "email": "mei@example.com", "role": "viewer"},
        follow=True,
    )
    assert "could not be mailed" in answer.text
    assert not team.invitations.exists()

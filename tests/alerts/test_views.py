"""The Alerts pages as team members and operators see them: only their teams' alerts, actions
for staff of the alert's team only, channels validated by kind and never shown back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from instances.alerts.models import Alert, AlertEvent, AlertRule, Channel
from tests.factories import BackendFactory, GroupFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return GroupFactory(name="data")


def alert_of(team, **fields) -> Alert:
    backend = BackendFactory(team=team, name=f"{team.name} backend")
    rule = AlertRule.objects.get_or_create(team=team, name="failures", kind="failed")[0]
    now = timezone.now()
    return Alert.objects.create(
        **{
            "rule": rule,
            "key": f"d|{now}",
            "backend": backend,
            "definition_id": "nightly",
            "title": "nightly failed",
            "culprit": "load",
            "error_line": "OutOfMemoryError",
            "opened_at": now,
            "updated_at": now,
            **fields,
        }
    )


def test_members_see_their_teams_alerts_only(client, team):
    mine, theirs = alert_of(team), alert_of(GroupFactory(name="finance"), title="payroll failed")
    client.force_login(UserFactory(teams=[team]))
    page = client.get("/alerts/").content.decode()
    assert "nightly failed" in page and "payroll failed" not in page
    assert client.get(f"/alerts/{theirs.pk}/").status_code == 404
    assert client.get(f"/alerts/{mine.pk}/").status_code == 200
    assert "⚠ 1 alert" in page  # the top bar counts what needs attention


def test_an_operator_acknowledges_and_silences_with_a_reason(client, team):
    alert = alert_of(team)
    operator = UserFactory(teams=[team], is_staff=True, username="mei")
    client.force_login(operator)
    client.post(f"/alerts/{alert.pk}/action", {"action": "acknowledge"})
    alert.refresh_from_db()
    assert alert.acknowledged_by == operator and alert.acknowledged_at is not None
    refused = client.post(
        f"/alerts/{alert.pk}/action", {"action": "silence", "for": "4h"}, follow=True
    )
    assert "Say why it is silenced" in refused.content.decode()
    client.post(
        f"/alerts/{alert.pk}/action",
        {"action": "silence", "for": "4h", "reason": "vendor maintenance"},
    )
    alert.refresh_from_db()
    assert alert.silenced_until > timezone.now() + timedelta(hours=3, minutes=59)
    assert list(alert.events.values_list("what", "by__username")) == [
        ("acknowledged", "mei"),
        ("silenced", "mei"),
    ]
    assert Alert.objects.needing_attention().count() == 0
    page = client.get("/alerts/?state=silenced").content.decode()
    assert "vendor maintenance" in page


def test_members_who_are_not_operators_cannot_act(client, team):
    alert = alert_of(team)
    client.force_login(UserFactory(teams=[team]))  # not staff
    assert client.post(f"/alerts/{alert.pk}/action", {"action": "acknowledge"}).status_code == 404
    other_staff = UserFactory(teams=[GroupFactory()], is_staff=True)
    client.force_login(other_staff)
    assert client.post(f"/alerts/{alert.pk}/action", {"action": "acknowledge"}).status_code == 404
    assert not AlertEvent.objects.exists()


def test_the_inbox_says_who_acknowledged_a_failure(client, team):
    alert = alert_of(team, signature="java.lang.OutOfMemoryError")
    InstanceFactory(
        backend=alert.backend,
        definition_id="nightly",
        status="FAILED",
        error_message="java.lang.OutOfMemoryError",
    )
    operator = UserFactory(teams=[team], is_staff=True, username="mei")
    Alert.objects.filter(pk=alert.pk).update(
        acknowledged_by=operator, acknowledged_at=timezone.now()
    )
    client.force_login(operator)
    assert "acknowledged by <bdi>mei</bdi>" in client.get("/failures/").content.decode()


def test_channels_are_validated_by_kind_and_never_shown_back(client, team):
    client.force_login(UserFactory(teams=[team], is_staff=True))
    bad = client.post(
        "/alerts/channels/new",
        {
            "team": team.pk,
            "name": "ops",
            "kind": "email",
            "target": "not an address",
            "max_per_minute": 20,
            "enabled": "on",
        },
    )
    assert bad.status_code == 200 and "Enter a valid email address" in bad.content.decode()
    wrong = client.post(
        "/alerts/channels/new",
        {
            "team": team.pk,
            "name": "ops",
            "kind": "feishu",
            "max_per_minute": 20,
            "target": "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        },
    )
    assert "not Feishu" in wrong.content.decode()
    secret = "https://open.feishu.cn/open-apis/bot/v2/hook/0d6a8e1c-2f3b-4c5d-9e8f-1a2b3c4d5e6f"
    client.post(
        "/alerts/channels/new",
        {"team": team.pk, "name": "ops", "kind": "feishu", "target": secret, "max_per_minute": 20},
    )
    channel = Channel.objects.get()
    assert channel.target == secret
    for page in ("/alerts/channels/", f"/alerts/channels/{channel.pk}/"):
        assert "0d6a8e1c" not in client.get(page).content.decode()
    client.post(
        f"/alerts/channels/{channel.pk}/",
        {"team": team.pk, "name": "ops chat", "kind": "feishu", "target": "", "max_per_minute": 5},
    )
    channel.refresh_from_db()
    assert channel.name == "ops chat" and channel.target == secret  # blank kept it


def test_an_operator_sees_the_webhook_signing_secret_a_member_does_not(client, team):
    hook = Channel(team=team, name="hook", kind="webhook")
    hook.target = "https://receiver.example/hook"
    hook.save()
    client.force_login(UserFactory(teams=[team], is_staff=True))
    assert hook.signing_secret in client.get(f"/alerts/channels/{hook.pk}/").content.decode()
    client.force_login(UserFactory(teams=[team]))
    assert client.get(f"/alerts/channels/{hook.pk}/").status_code == 404
    assert hook.signing_secret not in client.get("/alerts/channels/").content.decode()


def test_a_rule_takes_only_its_own_teams_channels_and_backends(client, team):
    other = GroupFactory()
    foreign = Channel(team=other, name="theirs", kind="email")
    foreign.target = "x@example.com"
    foreign.save()
    client.force_login(UserFactory(teams=[team, other], is_staff=True))
    answer = client.post(
        "/alerts/rules/new",
        {
            "team": team.pk,
            "name": "failures",
            "kind": "failed",
            "enabled": "on",
            "after_failures": 1,
            "stuck_factor": 3,
            "silent_minutes": 0,
            "grace_minutes": 30,
            "channels": [foreign.pk],
        },
    )
    assert "own team" in answer.content.decode() and not AlertRule.objects.exists()
    client.force_login(UserFactory(teams=[team]))  # a member, not an operator
    assert client.get("/alerts/rules/new").status_code == 404

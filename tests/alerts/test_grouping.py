"""What on-call is told in an incident: alerts arriving together go as one digest per channel
(the first at once, the rest when the channel's group window ends); a silence covers what was
chosen (this error, the definition, the backend); an alert opened in a silence is told when
the silence ends if it still fires, and its end is never told alone; a rule can remind."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from instances.alerts import delivery, lifecycle, reminders, silences
from instances.alerts.models import Alert, Delivery
from tests.alerts.receivers import http_receiver, smtp_receiver
from tests.alerts.test_lifecycle import rule_for
from tests.factories import BackendFactory, UserFactory
from tests.processes import celery, database_env, deliverer, wait_for

Scope = Alert.SilenceScope


def fail(rule, backend, definition: str, error: str = "ORA-01555", now=None) -> Alert:
    """What evaluate does for a failed run of the definition (its key: definition|signature)."""
    with transaction.atomic():
        return lifecycle.fire(
            rule,
            backend,
            f"{definition}|{error}",
            definition,
            {"title": f"{definition} failed", "signature": error, "error_line": error},
            now or timezone.now(),
        )


def window_passes() -> None:
    """The clock moves past every channel's group window (the messages sent move back)."""
    Delivery.objects.filter(state="sent").update(sent_at=F("sent_at") - timedelta(minutes=2))
    Delivery.objects.filter(state="pending").update(next_attempt_at=timezone.now())


@pytest.fixture
def backend(db):
    return BackendFactory(name="OCP main")


@pytest.mark.django_db
def test_alerts_within_a_window_go_as_one_digest_naming_each(backend, receivers):
    web, smtp = receivers
    rule = rule_for(backend, web, group_seconds=60)
    fail(rule, backend, "orders")
    assert delivery.deliver_due() == 2  # the first goes at once
    for name in ("billing", "stock", "ledger"):
        fail(rule, backend, name)
    assert delivery.deliver_due() == 0  # within the window: held to its end, none dropped
    held = Delivery.objects.filter(state="pending")
    sent_at = Delivery.objects.filter(state="sent").values_list("sent_at", flat=True).first()
    assert held.count() == 6
    assert all(d.next_attempt_at >= sent_at + timedelta(seconds=59) for d in held)

    window_passes()
    assert delivery.deliver_due() == 6  # three alerts, two channels: one message each
    assert len(web.received) == 2 and len(smtp.messages) == 2
    digest = web.received[1].json()
    assert digest["event"] == "digest" and digest["title"] == "[3 FIRING] 3 alerts"
    assert [m["title"] for m in digest["messages"]] == [
        "[FIRING] billing failed",
        "[FIRING] stock failed",
        "[FIRING] ledger failed",
    ]
    links = [link for _, link in digest["facts"]]
    assert all(link.startswith("https://runboard.example/alerts/") for link in links)
    assert len(set(links)) == 3  # each alert keeps its own link
    mail = smtp.messages[1]
    assert mail["Subject"] == "[3 FIRING] 3 alerts"
    assert all(f"[FIRING] {name} failed" in mail.get_payload() for name in ("billing", "ledger"))


@pytest.mark.django_db
def test_a_window_of_zero_sends_each_alone(backend, receivers):
    web, _ = receivers
    rule = rule_for(backend, web, group_seconds=0)
    for name in ("orders", "billing"):
        fail(rule, backend, name)
    assert delivery.deliver_due() == 4 and len(web.received) == 2
    assert {r.json()["event"] for r in web.received} == {"fired"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scope", "quiet"), [(Scope.DEFINITION, True), (Scope.SIGNATURE, False)], ids=str
)
def test_a_silence_on_a_definition_holds_across_a_different_error(backend, receivers, scope, quiet):
    web, _ = receivers
    rule = rule_for(backend, web, group_seconds=0)
    first = fail(rule, backend, "orders", "ORA-01555")
    delivery.deliver_due()
    now = timezone.now()
    silences.silence(first, scope, now + timedelta(hours=4), UserFactory(), "migration", now)
    other = fail(rule, backend, "orders", "ORA-00060 deadlock")  # another error, same definition
    assert other.is_silenced(timezone.now()) is quiet
    delivery.deliver_due()
    assert len(web.received) == (1 if quiet else 2)


@pytest.mark.django_db
def test_a_silence_of_a_backend_covers_what_fires_there_and_only_there(backend, receivers):
    web, _ = receivers
    rule = rule_for(backend, web, group_seconds=0)
    elsewhere = BackendFactory(name="OCP standby", team=backend.team)
    first = fail(rule, backend, "orders")
    firing_too = fail(rule, backend, "billing")
    now = timezone.now()
    count = silences.silence(
        first, Scope.BACKEND, now + timedelta(hours=1), UserFactory(), "dr", now
    )
    assert count == 2
    firing_too.refresh_from_db()
    assert firing_too.is_silenced(timezone.now())
    assert fail(rule, backend, "stock").is_silenced(timezone.now())
    assert not fail(rule, elsewhere, "inventory").is_silenced(timezone.now())


@pytest.mark.django_db
def test_an_alert_still_firing_when_its_silence_ends_is_told_and_one_that_ended_is_not(
    backend, receivers
):
    web, _ = receivers
    rule = rule_for(backend, web, group_seconds=0)
    first = fail(rule, backend, "orders")
    delivery.deliver_due()
    now = timezone.now()
    silences.silence(first, Scope.DEFINITION, now + timedelta(hours=1), UserFactory(), "fix", now)
    with transaction.atomic():
        lifecycle.close(Alert.objects.get(pk=first.pk), now, "succeeded")  # in silence: unsaid
    still = fail(rule, backend, "orders", "ORA-00060")  # opens in the silence: untold
    ended = fail(rule, backend, "orders", "ORA-04031")
    with transaction.atomic():
        lifecycle.close(Alert.objects.get(pk=ended.pk), timezone.now(), "succeeded")
    assert delivery.deliver_due() == 0 and len(web.received) == 1

    Alert.objects.update(silenced_until=timezone.now() - timedelta(seconds=1))  # it ends
    with transaction.atomic():
        reminders.tell_later(timezone.now())
    delivery.deliver_due()
    told = [r.json() for r in web.received[1:]]
    assert [(m["alert_id"], m["state"]) for m in told] == [(still.pk, "FIRING")]
    still.refresh_from_db()
    assert still.told_at is not None
    assert list(still.events.values_list("what", flat=True)) == ["fired", "told"]
    with transaction.atomic():  # told once: the next check says nothing more
        reminders.tell_later(timezone.now())
    assert delivery.deliver_due() == 0


@pytest.mark.django_db
def test_a_rule_with_a_repeat_interval_reminds_until_acknowledged(backend, receivers):
    web, _ = receivers
    rule = rule_for(backend, web, group_seconds=0, repeat_minutes=240)
    alert = fail(rule, backend, "orders")
    delivery.deliver_due()
    told = Alert.objects.filter(pk=alert.pk)
    told.update(told_at=F("told_at") - timedelta(hours=3))  # told 3 hours ago: not yet
    with transaction.atomic():
        reminders.tell_later(timezone.now())
    assert delivery.deliver_due() == 0
    told.update(told_at=F("told_at") - timedelta(hours=1, minutes=1))  # 4 h 1 min ago
    with transaction.atomic():
        reminders.tell_later(timezone.now())
    delivery.deliver_due()
    reminder = web.received[-1].json()
    assert reminder["event"] == "reminder 1" and reminder["title"] == "[STILL FIRING] orders failed"
    told.update(acknowledged_at=timezone.now(), told_at=F("told_at") - timedelta(hours=9))
    with transaction.atomic():
        reminders.tell_later(timezone.now())
    assert delivery.deliver_due() == 0 and len(web.received) == 2


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_fifty_failures_at_once_are_a_few_messages_naming_all_fifty(tmp_path):
    """With the deliverer and beat as shipped: the first failure is told at once, the 49 that
    follow within its window go together when it ends. The window is 10 s here (60 by
    default), so at most 3 messages a channel cover what 2 minutes would."""
    backend = BackendFactory(name="OCP main")
    with http_receiver() as web, smtp_receiver() as smtp:
        rule = rule_for(backend, web, group_seconds=10)
        env = database_env() | {
            "RUNBOARD_BEAT_SECONDS": "0.5",
            "EMAIL_URL": f"smtp://{smtp.host}:{smtp.port}",
        }
        beat = ("beat", tmp_path / "beat.log", env, f"--schedule={tmp_path / 's'}")
        with deliverer(tmp_path / "deliverer.log", env), celery(*beat):
            fail(rule, backend, "definition 0")
            wait_for(lambda: web.received and smtp.messages, 30, "the first failure, at once")
            for batch in range(7):  # 49 more right after, in 7 transactions as polls bring them
                for n in range(1 + 7 * batch, 8 + 7 * batch):
                    fail(rule, backend, f"definition {n}")
            sent = Delivery.objects.filter(state="sent")
            wait_for(lambda: sent.count() == 100, 60, "all 50 told on both channels")
        named = {title for r in web.received for title in titles(r.json())}
        assert named == {f"[FIRING] definition {n} failed" for n in range(50)}
        assert len(web.received) <= 3 and len(smtp.messages) <= 3
        mailed = "\n".join(
            f"{m['Subject']}\n{m.get_payload(decode=True).decode()}" for m in smtp.messages
        )
        missing = [n for n in range(50) if f"definition {n} failed" not in mailed]
        assert missing == [], mailed[:3000]


def titles(message: dict) -> list[str]:
    return [m["title"] for m in message.get("messages", [message])]

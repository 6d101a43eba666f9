"""An alert's life through sync and real channels: a local HTTP receiver checks the webhook's
signature, a local SMTP server receives the email. Polls go through the scripted vendor."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from instances import rollups, sync
from instances.alerts import checks, delivery
from instances.alerts.models import Alert, AlertEvent, AlertRule, Channel, Delivery
from instances.models import Backend, Instance, Status
from tests.factories import InstanceFactory
from tests.pipeline.fake import T0, FakeConnector, flow, task

pytestmark = pytest.mark.django_db
ERROR = "java.lang.OutOfMemoryError: Java heap space\n\tat org.apache.spark.Executor.run"


def rule_for(backend, web, group_seconds=0, **fields) -> AlertRule:
    """A failure rule telling a webhook and a mailbox; each message alone unless said (these
    tests read one alert's messages; tests/alerts/test_grouping.py reads digests)."""
    hook = Channel(team=backend.team, name="ops hook", kind=Channel.Kind.WEBHOOK)
    hook.group_seconds = group_seconds
    hook.target = f"{web.url}/hooks/runboard"
    hook.save()
    mail = Channel(
        team=backend.team, name="ops mail", kind=Channel.Kind.EMAIL, group_seconds=group_seconds
    )
    mail.target = "oncall@example.com, lead@example.com"
    mail.save()
    rule = AlertRule.objects.create(team=backend.team, name="failures", kind="failed", **fields)
    rule.channels.set([hook, mail])
    return rule


def vendor_run(ext: str, status: Status, minutes: int = 0, definition: str = "nightly_orders"):
    """A run of the definition starting `minutes` after a few minutes ago; a failed one fails
    in its load step."""
    at = timezone.now() - timedelta(minutes=5) + timedelta(minutes=minutes)
    root = replace(
        flow(ext, status, definition_id=definition, definition_name="nightly orders"), started_at=at
    )
    load = replace(
        task(f"{ext}-load", ext, status),
        started_at=at,
        error_message=ERROR if status == Status.FAILED else "",
    )
    extract = replace(task(f"{ext}-extract", ext, Status.SUCCEEDED), started_at=at)
    FakeConnector.vendor[ext] = (root, [extract, load], [(extract.external_id, load.external_id)])


def poll(backend):
    return sync.poll_backend(backend.pk)


def test_a_failure_is_told_once_per_channel_repeats_fold_and_a_success_resolves(backend, receivers):
    web, smtp = receivers
    rule_for(backend, web)
    vendor_run("1", Status.FAILED)
    poll(backend)
    alert = Alert.objects.get()
    assert alert.state == Alert.State.FIRING and alert.streak == 1
    assert alert.culprit == "task 1-load" and "OutOfMemoryError" in alert.error_line
    assert delivery.deliver_due() == 2

    assert len(web.received) == 1 and len(smtp.messages) == 1
    hook = web.received[0]
    secret = Channel.objects.get(kind="webhook").signing_secret
    payload = Webhook(secret).verify(hook.body, hook.headers)  # raises unless the HMAC holds
    assert payload["state"] == "FIRING" and payload["streak"] == 1
    link = f"https://runboard.example/runs/{alert.run_id}/#failing"
    assert payload["url"] == link
    facts = dict(payload["facts"])
    assert facts["Definition"] == "nightly_orders" and facts["Backend"] == "EnOS prod"
    assert facts["Failing step"] == "task 1-load" and "OutOfMemoryError" in facts["Error"]
    mail = smtp.messages[0]
    assert mail["Subject"] == "[FIRING] nightly orders failed on EnOS prod"
    assert mail["To"] == "oncall@example.com, lead@example.com"
    assert link in mail.get_payload() and "Streak: 1 failure in a row" in mail.get_payload()

    vendor_run("2", Status.FAILED, minutes=60)  # the same failure again
    poll(backend)
    alert.refresh_from_db()
    assert alert.streak == 2 and alert.occurrences == 2 and Alert.objects.count() == 1
    assert delivery.deliver_due() == 0 and len(web.received) == 1  # folded, not told again

    vendor_run("3", Status.SUCCEEDED, minutes=120)
    poll(backend)
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED
    assert delivery.deliver_due() == 2
    assert web.received[1].json()["state"] == "RESOLVED"
    assert smtp.messages[1]["Subject"].startswith("[RESOLVED] ")
    assert list(alert.events.values_list("what", flat=True)) == ["fired", "repeated", "resolved"]


def test_a_failure_first_seen_long_after_it_happened_pages_nobody(backend, receivers):
    web, _ = receivers
    rule_for(backend, web)
    vendor_run("old", Status.FAILED)
    root, steps, edges = FakeConnector.vendor["old"]
    FakeConnector.vendor["old"] = (replace(root, started_at=T0), steps, edges)
    poll(backend)  # a new backend's first poll finds last month's failure
    assert not Alert.objects.exists()
    vendor_run("new", Status.FAILED, minutes=4)  # one that failed just now is news
    poll(backend)
    assert Alert.objects.get().run.external_id == "new"


def test_only_the_nth_failure_in_a_row_fires_when_so_configured(backend, receivers):
    web, _ = receivers
    rule_for(backend, web, after_failures=2)
    vendor_run("1", Status.FAILED)
    poll(backend)
    assert not Alert.objects.exists()
    vendor_run("2", Status.FAILED, minutes=60)
    poll(backend)
    assert Alert.objects.get().streak == 2


def test_a_rule_scoped_elsewhere_stays_quiet(backend, receivers):
    web, _ = receivers
    rule_for(backend, web, name_pattern="hourly_*")
    vendor_run("1", Status.FAILED)
    poll(backend)
    assert not Alert.objects.exists()


def test_a_channel_down_gets_everything_once_when_it_is_back(backend, receivers, settings):
    web, smtp = receivers
    rule_for(backend, web)
    settings.RUNBOARD_ALERT_RETRY_MAX_SECONDS = 0  # retry at once: the test moves no clock
    web.status = 503
    vendor_run("1", Status.FAILED)
    poll(backend)
    for _ in range(3):
        delivery.deliver_due()
    failing = Delivery.objects.get(channel__kind="webhook")
    assert failing.state == "pending" and failing.attempts == 3 and failing.response_code == 503
    assert len(smtp.messages) == 1  # the other channel is not held back
    web.status = 200
    delivery.deliver_due()
    delivery.deliver_due()
    assert len(web.ok()) == 1 and Delivery.objects.get(pk=failing.pk).state == "sent"


def test_past_its_rate_a_channel_holds_messages_back_and_drops_none(backend, receivers):
    web, _ = receivers
    rule_for(backend, web)
    Channel.objects.update(max_per_minute=1)
    for n in range(3):  # three definitions failing: three alerts
        vendor_run(f"r{n}", Status.FAILED, definition=f"def{n}")
    poll(backend)
    assert Alert.objects.count() == 3
    delivery.deliver_due()
    assert len(web.received) == 1  # one a minute
    held = Delivery.objects.filter(channel__kind="webhook", state="pending")
    assert held.count() == 2 and all(d.next_attempt_at > timezone.now() for d in held)


def test_a_silenced_alert_says_nothing_more_until_the_silence_ends(backend, receivers):
    web, _ = receivers
    rule_for(backend, web)
    vendor_run("1", Status.FAILED)
    poll(backend)
    delivery.deliver_due()
    alert = Alert.objects.get()
    alert.silenced_until = timezone.now() + timedelta(hours=1)
    alert.silence_reason = "migration tonight"
    alert.save()
    vendor_run("2", Status.SUCCEEDED, minutes=60)
    poll(backend)  # resolved in silence
    vendor_run("3", Status.FAILED, minutes=120)
    poll(backend)  # back, within the silence: a new alert, silenced too
    assert delivery.deliver_due() == 0 and len(web.received) == 1
    again = Alert.objects.get(state="firing")
    assert again.silence_reason == "migration tonight"


def test_stale_stuck_and_missing_are_checked_and_resolve(backend, receivers):
    web, _ = receivers
    now = timezone.now()
    hook = rule_for(backend, web).channels.get(kind="webhook")
    for kind, extra in (
        ("stale", {}),
        ("stuck", {"silent_minutes": 30}),
        ("missing", {"grace_minutes": 10}),
    ):
        AlertRule.objects.create(team=backend.team, name=kind, kind=kind, **extra).channels.add(
            hook
        )
    # hourly runs, the last 90 minutes ago: the one due 30 minutes ago is missing
    for n in range(6):
        InstanceFactory(
            backend=backend,
            definition_id="hourly",
            name="hourly load",
            run_at=now - timedelta(minutes=90 + 60 * n),
        )
    stuck = InstanceFactory(
        backend=backend,
        definition_id="big",
        status=Status.RUNNING,
        status_changed_at=now - timedelta(hours=2),
    )
    backend.last_success_at = backend.last_poll_at = now  # polled well just now
    backend.poll_interval = 60
    backend.save()
    rollups.rebuild()  # sync keeps them; these runs were made without it
    checks.check(now)
    firing = dict(Alert.objects.filter(state="firing").values_list("rule__kind", "title"))
    assert firing == {
        "stuck": f"{stuck.name} is stuck on EnOS prod",
        "missing": "hourly load did not start on EnOS prod",
    }
    assert Alert.objects.get(rule__kind="missing").error_line.endswith("30 min ago")
    checks.check(now)  # checked again: still one alert each
    assert Alert.objects.count() == 2

    backend.last_success_at = now - timedelta(hours=3)  # polls fail for three hours
    backend.save()
    checks.check(now)
    stale = Alert.objects.get(rule__kind="stale", state="firing")
    assert stale.title == "EnOS prod is stale" and "stuck and missing alerts wait" in (
        stale.error_line
    )

    backend.last_success_at = now
    backend.save()
    Instance.objects.filter(pk=stuck.pk).update(status=Status.SUCCEEDED)
    checks.check(now)
    resolved = Alert.objects.filter(state="resolved").values_list("rule__kind", flat=True)
    assert set(resolved) == {"stale", "stuck"}
    assert AlertEvent.objects.filter(what="fired").count() == 3


def test_a_stale_backends_missing_and_stuck_checks_wait(backend, receivers):
    """While Runboard cannot see a backend, a run that did not start may well have: no
    "missing" alert beside the stale one (which says so)."""
    now = timezone.now()
    for kind in ("stale", "missing"):
        AlertRule.objects.create(team=backend.team, name=kind, kind=kind, grace_minutes=10)
    for n in range(6):
        InstanceFactory(
            backend=backend,
            definition_id="hourly",
            name="hourly load",
            run_at=now - timedelta(minutes=90 + 60 * n),
        )
    backend.last_success_at, backend.last_poll_at = now - timedelta(hours=1), now
    backend.save()
    rollups.rebuild()
    checks.check(now)
    assert list(Alert.objects.values_list("rule__kind", flat=True)) == ["stale"]


def test_a_pause_shorter_than_the_pending_period_blames_no_vendor(backend, receivers):
    AlertRule.objects.create(team=backend.team, name="stale", kind="stale")
    now = timezone.now()
    backend.poll_interval = 10  # 60 s without a success: 6 intervals, but under 2 minutes
    backend.last_success_at = backend.last_poll_at = now - timedelta(seconds=60)
    backend.save()
    checks.check(now)
    assert not Alert.objects.exists()
    later = now + timedelta(seconds=70)  # polls went on ending, none well: 130 s, stale now
    Backend.objects.filter(pk=backend.pk).update(last_poll_at=later)
    checks.check(later)
    assert Alert.objects.get().title == "EnOS prod is stale"


def test_no_poll_anywhere_is_runboards_own_alert_not_each_backends(backend, receivers):
    from tests.factories import BackendFactory

    AlertRule.objects.create(team=backend.team, name="stale", kind="stale")
    other = BackendFactory(team=backend.team, name="OCP prod")
    now = timezone.now()
    for each in (backend, other):  # the workers stopped 5 minutes ago
        each.last_success_at = each.last_poll_at = now - timedelta(minutes=5)
        each.save()
    checks.check(now)
    (alert,) = Alert.objects.all()
    assert alert.title == "Runboard is not polling" and alert.backend is None
    assert "5 min" in alert.error_line
    Backend.objects.update(last_success_at=now, last_poll_at=now)  # the workers are back
    checks.check(now)
    assert Alert.objects.get().state == "resolved"


def test_an_older_success_seen_with_a_newer_failure_resolves_nothing(backend, receivers):
    web, _ = receivers
    rule_for(backend, web)
    vendor_run("earlier", Status.SUCCEEDED, minutes=-3)
    vendor_run("later", Status.FAILED)
    poll(backend)  # both in one page: the failure is the news
    assert Alert.objects.get().state == Alert.State.FIRING


def test_the_culprit_is_found_through_the_edges_stored_with_the_run(backend, receivers):
    """Both steps failed; the downstream one started first, but the edge says the upstream
    failure caused it: the alert names the upstream step (edges are stored before alerting)."""
    web, _ = receivers
    rule_for(backend, web)
    at = timezone.now() - timedelta(minutes=2)
    root = replace(flow("9", Status.FAILED, definition_id="nightly_orders"), started_at=at)
    cause = replace(
        task("9-cause", "9", Status.FAILED),
        started_at=at + timedelta(seconds=30),
        error_message="java.io.IOException: No space left on device",
    )
    victim = replace(
        task("9-victim", "9", Status.FAILED), started_at=at, error_message="upstream failed"
    )
    FakeConnector.vendor["9"] = (root, [victim, cause], [("9-cause", "9-victim")])
    poll(backend)
    alert = Alert.objects.get()
    assert alert.culprit == "task 9-cause" and "No space left" in alert.error_line


def test_a_stale_backend_is_polled_at_its_interval_so_its_recovery_is_seen(
    backend, receivers, fake
):
    """Failing polls back off up to 30 minutes; while the stale alert fires, the backend is
    polled at its own interval again, so the alert resolves within one. A vendor's
    Retry-After still holds."""
    from instances.connectors.base import ConnectorError, RateLimited

    AlertRule.objects.create(team=backend.team, name="stale", kind="stale")
    Backend.objects.filter(pk=backend.pk).update(poll_interval=30)
    vendor_run("1", Status.SUCCEEDED)
    fake.error = ConnectorError("connection refused")
    for _ in range(8):  # eight failures in a row: the backoff is at its cap
        Backend.objects.filter(pk=backend.pk).update(next_poll_at=None)
        poll(backend)
    backend.refresh_from_db()
    assert backend.next_poll_at - backend.last_poll_at >= timedelta(minutes=20)
    Backend.objects.filter(pk=backend.pk).update(
        last_success_at=timezone.now() - timedelta(hours=1)
    )
    checks.check(timezone.now())
    assert Alert.objects.get().state == "firing"
    backend.refresh_from_db()
    assert backend.next_poll_at - backend.last_poll_at <= timedelta(seconds=30)

    fake.error = RateLimited("429", retry_after=600)  # the vendor asks for ten minutes
    Backend.objects.filter(pk=backend.pk).update(next_poll_at=None)
    poll(backend)
    checks.check(timezone.now())
    backend.refresh_from_db()
    assert backend.next_poll_at - backend.last_poll_at >= timedelta(seconds=590)

    fake.error = None  # it answers again: the next poll resolves the alert
    Backend.objects.filter(pk=backend.pk).update(next_poll_at=None)
    poll(backend)
    checks.check(timezone.now())
    assert Alert.objects.get().state == "resolved"


def test_a_backend_waiting_out_its_backoff_is_the_vendors_fault_not_runboards(backend, receivers):
    """Its polls end far apart because it fails: the stale alert is its own, and Runboard is
    not said to have stopped polling."""
    AlertRule.objects.create(team=backend.team, name="stale", kind="stale")
    now = timezone.now()
    backend.poll_interval = 30
    backend.consecutive_failures = 7  # the next poll is up to 30 min after the last
    backend.last_poll_at = now - timedelta(minutes=10)
    backend.last_success_at = now - timedelta(hours=2)
    backend.save()
    checks.check(now)
    assert list(Alert.objects.values_list("title", flat=True)) == ["EnOS prod is stale"]
    Backend.objects.filter(pk=backend.pk).update(last_poll_at=now - timedelta(minutes=40))
    checks.check(now)  # now overdue by far more than its backoff: the workers are gone
    assert Alert.objects.filter(title="Runboard is not polling", state="firing").exists()

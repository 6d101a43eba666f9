"""Alerts end to end: the emulator, a real Celery worker and beat, a local webhook receiver
and a local SMTP server. A forced failure is told once per channel within a poll interval and
5 s; a second failure in a row updates the streak without a second message; a success
resolves it; a skipped schedule raises "missing"; a channel down for a minute gets everything
once when it is back."""

import time
from datetime import timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from instances.alerts.models import Alert, AlertRule, Channel
from instances.emulator.runner import run_emulator
from instances.models import Instance, Poll
from instances.vendors.ocp import demo as ocp_demo
from tests.alerts.receivers import http_receiver, smtp_receiver
from tests.factories import GroupFactory
from tests.processes import celery, database_env, deliverer, wait_for, worker

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]
INTERVAL = 4  # seconds between polls


def channel(team, name, kind, target) -> Channel:
    """Each message alone (group_seconds=0): this test times single messages; digests are
    tests/alerts/test_grouping.py's."""
    made = Channel(team=team, name=name, kind=kind, group_seconds=0)
    made.target = target
    made.save()
    return made


def force(emu, run, status: str) -> None:
    httpx.post(
        f"{emu.base_url}/_emulator/runs/ocp/{run.seq}/status", json={"status": status}
    ).raise_for_status()


def next_run(emu, definition):
    """The clock moved on by the definition's period: its newest run."""
    emu.scenario.advance(definition.every.total_seconds())
    return newest(emu, definition)


def newest(emu, definition):
    return next(r for r in emu.scenario.visible("ocp") if r.definition_id == definition.id)


def test_alerts_through_a_worker_and_beat(tmp_path):
    with (
        run_emulator(seed=5, speed=0, vendors=("ocp",)) as emu,
        http_receiver() as web,
        smtp_receiver() as smtp,
    ):
        every = {d.every: d for d in emu.scenario.definitions}
        flaky, scheduled = every[timedelta(hours=1)], every[timedelta(minutes=5)]
        # the 5-minute definition's latest tick never ran: a skipped schedule
        emu.scenario.delete(newest(emu, scheduled))
        team = GroupFactory(name="data")
        backend = ocp_backend(emu, team)
        hook = channel(team, "ops hook", "webhook", f"{web.url}/failures")
        mail = channel(team, "ops mail", "email", "oncall@example.com")
        env = database_env() | {
            "RUNBOARD_BEAT_SECONDS": "0.5",
            "RUNBOARD_ALERT_CHECK_SECONDS": "1",
            "RUNBOARD_ALERT_RETRY_MAX_SECONDS": "2",
            "RUNBOARD_BASE_URL": "https://rb.example",
            "EMAIL_URL": f"smtp://{smtp.host}:{smtp.port}",
        }
        polls = Poll.objects.filter(backend=backend, outcome=Poll.Outcome.OK)
        beat = ("beat", tmp_path / "beat.log", env, f"--schedule={tmp_path / 's'}")
        with (
            worker(tmp_path / "worker.log", env, concurrency=2),
            deliverer(tmp_path / "deliverer.log", env),
            celery(*beat),
        ):
            wait_for(lambda: polls.exists(), 60, "the first poll")
            missing = AlertRule.objects.create(
                team=team,
                name="schedule",
                kind="missing",
                definition_id=scheduled.id,
                grace_minutes=0,
            )
            missing.channels.add(channel(team, "schedules", "webhook", f"{web.url}/missing"))
            failures = AlertRule.objects.create(
                team=team, name="failures", kind="failed", definition_id=flaky.id
            )
            failures.channels.add(hook, mail)

            # a skipped schedule raises "missing"
            wait_for(lambda: [r for r in web.ok() if r.path == "/missing"], 30, "missing")
            said = next(r for r in web.ok() if r.path == "/missing").json()
            assert said["rule_kind"] == "missing" and "did not start" in said["title"]

            # a forced failure: told once per channel within a poll interval and 5 s
            run = newest(emu, flaky)
            force(emu, run, "failed")
            forced_at = time.monotonic()
            told = lambda: [r for r in web.ok() if r.path == "/failures"]  # noqa: E731
            wait_for(lambda: told() and smtp.messages, INTERVAL + 5, "one message each")
            assert time.monotonic() - forced_at <= INTERVAL + 5
            fired = told()[0]
            payload = Webhook(hook.signing_secret).verify(fired.body, fired.headers)
            stored = Instance.objects.get(backend=backend, external_id=str(run.seq))
            assert payload["state"] == "FIRING" and payload["streak"] == 1
            assert payload["url"] == f"https://rb.example/runs/{stored.pk}/#failing"
            assert smtp.messages[0]["Subject"] == payload["title"]

            # the next run fails too: the streak grows, nobody is told twice
            force(emu, next_run(emu, flaky), "failed")
            alert = Alert.objects.filter(rule=failures)
            wait_for(lambda: alert.get().streak == 2, 30, "the streak to grow")
            seen = polls.count()
            wait_for(lambda: polls.count() >= seen + 2, 30, "two more polls")
            assert len(told()) == 1 and len(smtp.messages) == 1 and alert.count() == 1

            # the webhook goes down for a minute; a success resolves the alert meanwhile
            web.status = 503
            down_at = time.monotonic()
            force(emu, next_run(emu, flaky), "succeeded")
            wait_for(lambda: alert.get().state == Alert.State.RESOLVED, 30, "the resolution")
            wait_for(lambda: len(smtp.messages) == 2, 30, "the email saying so")
            assert smtp.messages[1]["Subject"].startswith("[RESOLVED]")
            wait_for(lambda: time.monotonic() - down_at >= 60, 70, "a minute", every=1)
            refused = [r for r in web.received if r.headers["x-answered"] == "503"]
            assert len(refused) >= 3  # retried while it was down
            web.status = 200
            wait_for(lambda: len(told()) == 2, 30, "the resolution, once it is back")
            assert told()[1].json()["state"] == "RESOLVED"
            seen = polls.count()
            wait_for(lambda: polls.count() >= seen + 2, 30, "two more polls")
        ids = [r.headers["webhook-id"] for r in web.ok()]
        assert len(ids) == len(set(ids))  # nothing twice
        assert len(told()) == 2 and len(smtp.messages) == 2


def ocp_backend(emu, team):
    from instances.models import Backend

    backend = Backend(
        name="OCP", kind="ocp", base_url=emu.base_url, team=team, poll_interval=INTERVAL
    )
    backend.credentials = {"username": ocp_demo.USER, "password": ocp_demo.PASSWORD}
    backend.save()
    return backend

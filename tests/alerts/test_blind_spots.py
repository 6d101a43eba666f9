"""When Runboard cannot see, it blames no vendor for it. With the deliverer and beat as shipped
(the alert check runs beside the deliveries, not behind the polls): every poll worker down
gives one "Runboard is not polling" alert and no backend called stale; a backend that stopped
answering is stale, and its missed schedule stays quiet while it is, as its alert says."""

from datetime import timedelta

import pytest
from django.utils import timezone

from instances import rollups
from instances.alerts.models import Alert, AlertRule, Channel
from instances.models import Backend
from instances.vendors.ocp import demo as ocp_demo
from tests.alerts.receivers import http_receiver
from tests.factories import GroupFactory, InstanceFactory
from tests.processes import celery, database_env, deliverer, free_ports, wait_for, worker

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]
PENDING = 6  # seconds before a backend is called stale (RUNBOARD_STALE_PENDING_SECONDS)


def checked(log, times: int):
    """A condition: the deliverer has run the alert check `times` times so far."""
    return lambda: log.read_text().count("instances.check_alerts") >= 2 * times  # got, done


def told(team, web) -> Channel:
    hook = Channel(team=team, name="ops hook", kind=Channel.Kind.WEBHOOK, group_seconds=0)
    hook.target = f"{web.url}/hook"
    hook.save()
    return hook


def backend_of(team, name: str, answered_ago: timedelta) -> Backend:
    """A backend whose last poll ended just now, its last successful one `answered_ago`."""
    now = timezone.now()
    backend = Backend(
        name=name,
        kind="ocp",
        base_url=f"http://127.0.0.1:{free_ports(1)}",  # nobody answers there
        team=team,
        poll_interval=1,
        last_poll_at=now,
        last_success_at=now - answered_ago,
    )
    backend.credentials = {"username": ocp_demo.USER, "password": ocp_demo.PASSWORD}
    backend.save()
    return backend


def environment() -> dict[str, str]:
    return database_env() | {
        "RUNBOARD_BEAT_SECONDS": "0.5",
        "RUNBOARD_ALERT_CHECK_SECONDS": "1",
        "RUNBOARD_STALE_PENDING_SECONDS": str(PENDING),
    }


def test_no_poll_worker_is_runboards_own_alert_not_each_vendors(tmp_path):
    team = GroupFactory(name="data")
    for name in ("OCP main", "OCP standby"):
        backend_of(team, name, answered_ago=timedelta(0))  # polled a moment ago, then not
    with http_receiver() as web:
        rule = AlertRule.objects.create(team=team, name="stale", kind="stale")
        rule.channels.add(told(team, web))
        env = environment()
        beat = ("beat", tmp_path / "beat.log", env, f"--schedule={tmp_path / 's'}")
        log = tmp_path / "deliverer.log"
        with deliverer(log, env), celery(*beat):  # and no poll worker at all
            wait_for(lambda: web.ok(), PENDING + 30, "a message")
            seen = log.read_text().count("instances.check_alerts") // 2
            wait_for(checked(log, seen + 3), 30, "three more checks")
        (alert,) = Alert.objects.all()
        assert alert.title == "Runboard is not polling" and alert.backend is None
        assert [r.json()["title"] for r in web.ok()] == ["[FIRING] Runboard is not polling"]


def test_a_stale_backends_missed_schedule_waits_and_its_alert_says_so(tmp_path):
    team = GroupFactory(name="data")
    backend = backend_of(team, "OCP main", answered_ago=timedelta(hours=1))
    now = timezone.now()
    for n in range(6):  # hourly, the last 90 minutes ago: the one due 30 minutes ago is missing
        InstanceFactory(
            backend=backend,
            definition_id="hourly",
            name="hourly load",
            run_at=now - timedelta(minutes=90 + 60 * n),
        )
    rollups.rebuild()
    with http_receiver() as web:
        env = environment()
        beat = ("beat", tmp_path / "beat.log", env, f"--schedule={tmp_path / 's'}")
        log = tmp_path / "deliverer.log"
        with worker(tmp_path / "worker.log", env), deliverer(log, env), celery(*beat):
            polled = Backend.objects.filter(pk=backend.pk, last_poll_at__gt=now)
            wait_for(polled.exists, 60, "a first poll (failing)")  # Runboard polls
            hook = told(team, web)
            for kind in ("stale", "missing"):
                rule = AlertRule.objects.create(team=team, name=kind, kind=kind, grace_minutes=10)
                rule.channels.add(hook)
            wait_for(lambda: web.ok(), PENDING + 30, "a message")
            seen = log.read_text().count("instances.check_alerts") // 2
            wait_for(checked(log, seen + 3), 30, "three more checks")
        assert Backend.objects.get(pk=backend.pk).last_poll_at > now  # polls went on, failing
        alerts = list(Alert.objects.values_list("title", "state", "error_line"))
        assert len(alerts) == 1, alerts
        alert = Alert.objects.get()
        assert alert.title == "OCP main is stale"
        assert "stuck and missing alerts wait" in alert.error_line
        assert [r.json()["title"] for r in web.ok()] == ["[FIRING] OCP main is stale"]

from datetime import timedelta

import pytest
from django.utils import timezone

from instances import retention
from instances.models import Instance, Poll, StatusChange
from tests.factories import BackendFactory, InstanceFactory

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_login_with_database_broker_and_freshness(client):
    BackendFactory(last_success_at=timezone.now() - timedelta(seconds=42))
    reply = client.get("/healthz")
    assert reply.status_code == 200
    body = reply.json()
    assert body["database"] is True and body["broker"] is True
    assert 41 <= body["newest_successful_poll_age_s"] < 60


def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch):
    from dashboard.views import health

    monkeypatch.setattr(health, "broker_ok", lambda: False)
    assert client.get("/healthz").status_code == 503


def test_prune_removes_old_runs_with_their_children_and_history(settings):
    settings.RUNBOARD_RETENTION_DAYS = 30
    old = InstanceFactory(run_at=timezone.now() - timedelta(days=31))
    child = InstanceFactory(backend=old.backend, parent=old, run_at=timezone.now())
    StatusChange.objects.create(instance=child, to_status="RUNNING", observed_at=timezone.now())
    Poll.objects.create(backend=old.backend, started_at=timezone.now() - timedelta(days=40))
    recent = InstanceFactory(backend=old.backend)
    assert retention.prune() == 3  # the run, its child, the child's status change
    assert list(Instance.objects.all()) == [recent]
    assert not Poll.objects.exists()


def test_healthz_says_whether_runboard_polls_at_all(client):
    now = timezone.now()
    backend = BackendFactory(last_poll_at=now - timedelta(seconds=20))
    assert client.get("/healthz").json()["polling"] is True
    backend.last_poll_at = now - timedelta(minutes=10)  # no poll has ended for 10 minutes
    backend.save()
    assert client.get("/healthz").json()["polling"] is False

"""Redis is the cache and the task queue; when it goes away, pages keep answering and only
/healthz (and a "Poll now" that cannot be queued) says so. A real Redis, started by the test
on its own port, is stopped mid-test."""

import subprocess
from collections.abc import Iterator

import pytest
import redis

from dashboard.celery import app as celery_app
from instances.emulator.runner import free_port
from instances.models import Edge, Status
from tests.factories import BackendFactory, InstanceFactory, UserFactory
from tests.processes import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_redis(tmp_path) -> Iterator[tuple[subprocess.Popen, str]]:
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"

    def answers():
        try:
            return redis.Redis.from_url(url, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    wait_for(answers, 10, "redis-server")
    yield server, url
    if server.poll() is None:
        server.terminate()
        server.wait(timeout=10)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def on_own_redis(own_redis, settings, monkeypatch):
    """The cache and the Celery broker on the test's own Redis."""
    server, url = own_redis
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    monkeypatch.setattr(celery_app.conf, "broker_url", url)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)  # built again for that URL
    return server


def test_run_page_draws_its_dag_without_the_cache(client, on_own_redis):
    backend = BackendFactory()
    flow = InstanceFactory(backend=backend, status=Status.FAILED, name="nightly")
    a = InstanceFactory(backend=backend, parent=flow, kind="task", name="extract")
    b = InstanceFactory(
        backend=backend, parent=flow, kind="task", name="load", status=Status.FAILED
    )
    Edge.objects.create(parent=flow, upstream=a, downstream=b)
    client.force_login(UserFactory(teams=[backend.team]))
    first = client.get(f"/runs/{flow.pk}/")
    assert first.status_code == 200 and b'<g id="run' in first.content
    assert client.get("/healthz").json()["cache"] is True

    stop(on_own_redis)
    again = client.get(f"/runs/{flow.pk}/")
    assert again.status_code == 200
    assert again.content.decode().count('<g id="run') == 2  # drawn again, not cached
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["cache"] is False and health.json()["broker"] is False


def test_poll_now_says_the_queue_is_unreachable(client, on_own_redis):
    backend = BackendFactory(name="OCP prod")
    client.force_login(UserFactory(teams=[backend.team], is_staff=True))
    stop(on_own_redis)
    reply = client.post(f"/backends/{backend.pk}/poll/")
    assert reply.status_code == 503
    assert reply.content.decode() == "Poll of OCP prod not queued: the task queue is unreachable."

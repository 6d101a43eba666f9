"""The pipeline through real Celery workers (and beat) on the configured broker and database,
polling the emulator over HTTP."""

import os
import signal

import httpx
import pytest
from django.utils import timezone

from instances import scheduling, tasks
from instances.emulator.faults import Fault
from instances.emulator.runner import run_emulator
from instances.models import Backend, Instance, Poll, StatusChange
from instances.status import Status
from instances.vendors.enos_batch_v21 import demo as enos_demo
from instances.vendors.ocp import demo as ocp_demo
from tests.processes import celery, database_env, wait_for, worker

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

OCP_TASK_STATUS = {
    "pending": Status.RUNNING,
    "running": Status.RUNNING,
    "succeeded": Status.SUCCEEDED,
    "skipped": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "timeout": Status.FAILED,
    "canceled": Status.FAILED,
}
SEED_SAMPLE = "35000312"  # from 2021: outside any polling window


def ocp_backend(emulator, **fields) -> Backend:
    backend = Backend(
        name=fields.pop("name", "ocp"), kind="ocp", base_url=emulator.base_url, **fields
    )
    backend.credentials = {"username": ocp_demo.USER, "password": ocp_demo.PASSWORD}
    backend.save()
    return backend


def enos_backend(emulator, **fields) -> Backend:
    scope = {"orgId": enos_demo.ORG_ID, "userId": enos_demo.USER_ID}
    backend = Backend(
        name="enos", kind="enos_batch_v21", base_url=emulator.base_url, scope=scope, **fields
    )
    backend.credentials = {"app_key": enos_demo.APP_KEY, "app_secret": enos_demo.APP_SECRET}
    backend.save()
    return backend


def truth(emulator, vendor: str) -> dict[str, str]:
    found = httpx.get(f"{emulator.base_url}/_emulator/truth/{vendor}").json()
    return {run_id: status for run_id, status in found.items() if run_id != SEED_SAMPLE}


def finished_polls(backend) -> int:
    return Poll.objects.filter(backend=backend).exclude(outcome=Poll.Outcome.RUNNING).count()


def test_a_worker_polls_a_backend_end_to_end(emulator, tmp_path):
    backend = ocp_backend(emulator)
    with worker(tmp_path / "worker.log", database_env()):
        tasks.poll_backend.delay(backend.pk)
        wait_for(lambda: finished_polls(backend), 60, "the poll")
    poll = Poll.objects.get(backend=backend)
    assert poll.outcome == Poll.Outcome.OK, poll.error
    expected = {ext: OCP_TASK_STATUS[status] for ext, status in truth(emulator, "ocp").items()}
    stored = dict(backend.instances.roots().values_list("external_id", "status"))
    assert stored == expected
    assert backend.instances.filter(parent__isnull=False).exists()


def test_repolling_unchanged_data_writes_nothing(emulator, tmp_path):
    backend = ocp_backend(emulator)
    with worker(tmp_path / "worker.log", database_env()):
        tasks.poll_backend.delay(backend.pk)
        wait_for(lambda: finished_polls(backend) == 1, 60, "the first poll")
        before = dict(Instance.objects.values_list("pk", "updated_at"))
        changes = StatusChange.objects.count()
        tasks.poll_backend.delay(backend.pk)
        wait_for(lambda: finished_polls(backend) == 2, 60, "the second poll")
    assert dict(Instance.objects.values_list("pk", "updated_at")) == before
    assert StatusChange.objects.count() == changes


def test_two_workers_racing_poll_a_backend_once(emulator, tmp_path):
    backend = ocp_backend(emulator)
    emulator.faults["ocp"] = Fault(latency=0.1)  # a poll long enough for the race to overlap
    env = database_env()
    with (
        worker(tmp_path / "one.log", env, name="one"),
        worker(tmp_path / "two.log", env, name="two"),
    ):
        tasks.poll_backend.delay(backend.pk)
        tasks.poll_backend.delay(backend.pk)
        logs = lambda: (tmp_path / "one.log").read_text() + (tmp_path / "two.log").read_text()  # noqa: E731
        wait_for(lambda: logs().count("succeeded in") == 2, 90, "both tasks to finish")
    assert Poll.objects.filter(backend=backend).count() == 1
    assert "is being polled elsewhere" in logs()


def test_a_worker_killed_mid_poll_loses_nothing_committed(emulator, tmp_path):
    backend = ocp_backend(emulator)
    emulator.faults["ocp"] = Fault(latency=0.2)  # pages keep coming after the first one
    env = database_env() | {"RUNBOARD_CLAIM_SECONDS": "3"}
    with worker(tmp_path / "first.log", env) as first:
        tasks.poll_backend.delay(backend.pk)
        wait_for(lambda: Instance.objects.filter(backend=backend).exists(), 60, "a stored page")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    kept = Instance.objects.filter(backend=backend).count()
    wait_for(
        lambda: Backend.objects.get(pk=backend.pk).claimed_until < timezone.now(),
        10,
        "the dead poll's claim to expire",
    )
    emulator.faults.clear()
    with worker(tmp_path / "second.log", env):
        polls = Poll.objects.filter(backend=backend)
        tasks.poll_backend.delay(backend.pk)
        wait_for(lambda: polls.filter(outcome=Poll.Outcome.OK).exists(), 60, "the next poll")
    # the killed poll's row is closed, not left running forever
    assert polls.filter(outcome=Poll.Outcome.ABANDONED).count() == 1
    assert not polls.filter(outcome=Poll.Outcome.RUNNING).exists()
    roots = backend.instances.roots()
    assert Instance.objects.filter(backend=backend).count() > kept
    assert set(roots.values_list("external_id", flat=True)) == set(truth(emulator, "ocp"))
    first_sightings = StatusChange.objects.filter(instance__backend=backend, from_status="")
    assert first_sightings.count() == Instance.objects.filter(backend=backend).count()


def test_a_long_poll_keeps_its_claim_alive_with_a_heartbeat(emulator, tmp_path):
    backend = ocp_backend(emulator)
    emulator.faults["ocp"] = Fault(latency=1.0)  # a poll far longer than its claim lasts
    env = database_env() | {"RUNBOARD_CLAIM_SECONDS": "3"}
    claims = []

    def renewed_twice():
        claim = Backend.objects.get(pk=backend.pk).claimed_until
        if claim and claim not in claims:
            claims.append(claim)
        return len(claims) >= 3

    with worker(tmp_path / "worker.log", env):
        tasks.poll_backend.delay(backend.pk)
        wait_for(renewed_twice, 30, "the claim to be renewed twice")
        assert not scheduling.claim(backend.pk, timezone.now())  # still taken: nobody polls twice
        emulator.faults.clear()
        wait_for(lambda: finished_polls(backend), 120, "the poll")
    assert Poll.objects.get(backend=backend).outcome == Poll.Outcome.OK
    # released once the poll is over (just after its row is closed)
    wait_for(lambda: Backend.objects.get(pk=backend.pk).claimed_until is None, 10, "release")


def test_a_failing_backend_never_delays_a_healthy_one(emulator, tmp_path):
    broken = ocp_backend(emulator, poll_interval=2)
    healthy = enos_backend(emulator, poll_interval=2)
    emulator.faults["ocp"] = Fault(error_rate=1.0, status=500)
    env = database_env() | {"RUNBOARD_BEAT_SECONDS": "0.5"}
    with (
        worker(tmp_path / "worker.log", env, concurrency=2),
        celery("beat", tmp_path / "beat.log", env, f"--schedule={tmp_path / 'beat-schedule'}"),
    ):
        ok = Poll.objects.filter(backend=healthy, outcome=Poll.Outcome.OK)
        wait_for(lambda: ok.count() >= 3, 120, "three healthy polls")
        wait_for(
            lambda: Backend.objects.get(pk=broken.pk).consecutive_failures >= 1,
            60,
            "the broken backend to be marked",
        )
    broken.refresh_from_db()
    assert "500" in broken.last_error and broken.last_success_at is None
    assert Backend.objects.get(pk=healthy.pk).consecutive_failures == 0


def test_a_hostile_vendor_and_a_dead_worker_cost_only_the_bad_records(tmp_path):
    """The whole story at once, through beat and real workers: the vendor serves malformed
    records and deletes a running run, and a worker is killed mid-poll. Every good run ends
    stored once, the backend is polled again within two intervals, and no poll stays
    running."""
    interval = 5
    with run_emulator(seed=11, speed=0, definitions_per_vendor=12, vendors=("ocp",)) as emu:
        backend = ocp_backend(emu, poll_interval=interval)
        ids = sorted(truth(emu, "ocp"), key=int)
        bad_time, bad_count, bad_edge, bad_name = ids[:4]
        hostile = {
            bad_time: {"record": {"finishTime": "yesterday-ish"}},
            bad_count: {"steps": {"0": {"runTime": -1}}},
            bad_edge: {"steps": {"1": {"upstreams": ["13\x0000"]}}},
            bad_name: {"record": {"name": {"zh": "卸载", "en": "Uninstall"}}},
        }
        for run_id, patch in hostile.items():
            httpx.post(
                f"{emu.base_url}/_emulator/runs/ocp/{run_id}/patch", json=patch
            ).raise_for_status()
        emu.faults["ocp"] = Fault(latency=0.2)  # pages keep coming after the first one
        env = database_env() | {"RUNBOARD_CLAIM_SECONDS": "3", "RUNBOARD_BEAT_SECONDS": "0.5"}
        polls = Poll.objects.filter(backend=backend)
        with celery("beat", tmp_path / "beat.log", env, f"--schedule={tmp_path / 'schedule'}"):
            with worker(tmp_path / "first.log", env) as first:
                wait_for(
                    lambda: Instance.objects.filter(backend=backend).exists(), 60, "a stored page"
                )
                os.killpg(first.pid, signal.SIGKILL)
                first.wait()
                killed_at = timezone.now()
            assert polls.filter(outcome=Poll.Outcome.RUNNING).exists()  # it died mid-poll
            # the vendor deletes a run we saw running
            running = backend.instances.roots().filter(status=Status.RUNNING).first()
            httpx.post(
                f"{emu.base_url}/_emulator/runs/ocp/{running.external_id}/delete"
            ).raise_for_status()
            emu.faults.clear()
            with worker(tmp_path / "second.log", env):
                wait_for(
                    lambda: polls.filter(started_at__gt=killed_at).exists(),
                    2 * interval,
                    "the backend polled again within two intervals",
                )
                wait_for(
                    lambda: Instance.objects.filter(pk=running.pk, gone_at__isnull=False).exists(),
                    60,
                    "the deleted run marked gone",
                )
        good = set(truth(emu, "ocp")) - {bad_time}
    assert not polls.filter(outcome=Poll.Outcome.RUNNING).exists()
    assert polls.filter(outcome=Poll.Outcome.ABANDONED).count() == 1
    assert polls.filter(skipped__gte=1, error__contains=f"{bad_time}: ValueError").exists()
    roots = dict(backend.instances.roots().values_list("external_id", "pk"))
    assert good <= set(roots) and bad_time not in roots
    gone = Instance.objects.get(pk=running.pk)
    assert gone.status == Status.RUNNING  # its last known state kept
    steps = Instance.objects.filter(parent_id=roots[bad_count]).order_by("external_id")
    assert steps[0].attempts is None  # -1 attempts is no count
    # the NUL upstream id costs that one edge, not the run or its steps
    with_bad_edge = Instance.objects.get(pk=roots[bad_edge])
    assert with_bad_edge.children.count() == len(emu.scenario.find_seq("ocp", int(bad_edge)).steps)
    assert with_bad_edge.edges.exists()
    named = Instance.objects.get(pk=roots[bad_name])
    assert named.name == '{"zh":"卸载","en":"Uninstall"}'
    # nothing twice: one first sighting per stored run
    first_sightings = StatusChange.objects.filter(instance__backend=backend, from_status="")
    assert first_sightings.count() == Instance.objects.filter(backend=backend).count()

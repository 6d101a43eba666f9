"""Real Airflow 2 and 3 from PyPI are the judges: Runboard polls them and must store what
their own REST APIs report, field by field, with 0 mismatches, also after a failed run is
cleared (it turns green) and a finished run is deleted (it is marked gone)."""

from unittest.mock import patch

import httpx
import pytest
from django.contrib.auth.models import Group

from instances import crypto, sync
from instances.acting import following, perform
from instances.acting.models import Action
from instances.acting.offers import moves_of
from instances.models import Backend, Edge, Instance, Poll, Status
from instances.people import roles
from instances.people.models import Role
from instances.status import culprits
from instances.vendors.airflow import demo as airflow_demo
from tests.factories import BackendFactory, UserFactory
from tests.processes import wait_for

from .judge import Judge, field_sets
from .server import LINEAGE_TOKEN, PASSWORD, USER, namespace, run_path

pytestmark = [pytest.mark.django_db, pytest.mark.real_airflow]
FINISHED = ("success", "failed")


def poll(backend: Backend) -> None:
    Backend.objects.filter(pk=backend.pk).update(claimed_until=None)
    outcome = sync.poll_backend(backend.pk)
    backend.refresh_from_db()
    assert outcome.outcome == "ok", backend.last_error


def retry_from_runboard(backend: Backend, step: Instance) -> Action:
    """An operator's retry of the failed task, previewed by Airflow's dry run."""
    team, _ = Group.objects.get_or_create(name=f"airflow-{backend.pk}")
    Backend.objects.filter(pk=backend.pk).update(team=team, may_act=True)
    step = Instance.objects.select_related("backend", "parent").get(pk=step.pk)
    preview = perform.preview(step, moves_of(step)["retry_step"])
    assert preview.source == "the vendor's dry run" and preview.steps == ["gate"]
    return act_from_runboard(step, "retry_step", Role.OPERATOR)


def act_from_runboard(target: Instance, move: str, role: str) -> Action:
    """A move sent as the run page sends it, by a person of that role in the backend's team,
    then followed as the worker follows it until Airflow's state confirms it."""
    target = Instance.objects.select_related("backend", "parent").get(pk=target.pk)
    person = UserFactory()
    roles.place(person, target.backend.team, role)
    with patch.object(perform, "follow_soon"):
        action = perform.request(person, target, move, "from the judge", f"{move}{target.pk}")
    assert action.state == "accepted", action.vendor_message
    wait_for(lambda: following.follow(action.pk) is None, 120, f"the {move} confirmed", every=1)
    action.refresh_from_db()
    return action


def runs(client, dag_id: str = "~") -> list[dict]:
    return client.get(f"dags/{dag_id}/dagRuns", params={"limit": 100}).json()["dag_runs"]


@pytest.mark.parametrize("major", [2, 3])
def test_runboard_agrees_with_a_real_airflow(major, airflows):
    airflow = airflows[major]
    with airflow.client() as client:
        wait_for(
            lambda: all(r["state"] in FINISHED for r in runs(client)),
            420,
            f"Airflow {major} finishing the judged runs",
            every=1,
        )
        backend = BackendFactory(
            kind="airflow",
            base_url=airflow.base_url,
            credentials={"username": USER, "password": PASSWORD},
        )
        judge = Judge(client, major, backend)
        poll(backend)
        assert judge.mismatches() == []

        # on-call opens the gate and, from Runboard, clears the failed task: Airflow reruns it
        # (try 2) to success, and Runboard shows it green
        client.post("variables", json={"key": "rb_gate", "value": "open"}).raise_for_status()
        (cleared,) = runs(client, "rb_clearable")
        path = run_path("rb_clearable", cleared["dag_run_id"])
        stored = Instance.objects.get(
            backend=backend, external_id=f"rb_clearable/{cleared['dag_run_id']}"
        )
        action = retry_from_runboard(backend, stored.children.get(status=Status.FAILED))
        wait_for(
            lambda: client.get(path).json()["state"] == "success",
            180,
            "the cleared run succeeding",
            every=1,
        )
        assert client.get(f"{path}/taskInstances/gate").json()["try_number"] == 2
        for _ in range(2):
            poll(backend)
        assert judge.mismatches() == []
        stored.refresh_from_db()
        assert stored.status == Status.SUCCEEDED and stored.failure_signature is None
        action.refresh_from_db()
        assert action.state == "confirmed", action.outcome
        assert stored.children.get(definition_id="gate").attempts == 2
        # a team admin pauses the DAG's schedule from Runboard, then resumes it
        for move, paused in (("pause", True), ("resume", False)):
            done = act_from_runboard(stored, move, Role.ADMIN)
            assert done.outcome == f"Its schedule is {'paused' if paused else 'running'}."
            assert client.get("dags/rb_clearable").json()["is_paused"] is paused

        # a finished run deleted in Airflow is marked gone, the others stay as they are
        deleted = runs(client, "rb_mapped")[-1]
        client.delete(run_path("rb_mapped", deleted["dag_run_id"])).raise_for_status()
        for _ in range(2):
            poll(backend)
        gone = Instance.objects.get(
            backend=backend, external_id=f"rb_mapped/{deleted['dag_run_id']}"
        )
        assert gone.gone_at is not None
        assert judge.mismatches() == []


@pytest.mark.parametrize("major", [2, 3])
def test_the_emulator_answers_with_the_real_servers_fields(major, airflows, emulator):
    """The emulator is kept honest by the real thing: every record it renders has exactly the
    fields the real server's has (DAGs, runs, task instances, tasks, lists, logs)."""
    if major == 2:
        emulated = httpx.Client(
            base_url=f"{emulator.base_url}/api/v1", auth=(airflow_demo.USER, airflow_demo.PASSWORD)
        )
    else:
        base = f"{emulator.base_url}/airflow3"
        signed = httpx.post(
            f"{base}/auth/token",
            json={"username": airflow_demo.USER, "password": airflow_demo.PASSWORD},
        )
        token = signed.json()["access_token"]
        emulated = httpx.Client(
            base_url=f"{base}/api/v2", headers={"Authorization": f"Bearer {token}"}
        )
    with airflows[major].client() as real, emulated:
        wait_for(
            lambda: any(r["state"] == "failed" for r in runs(real)), 420, "a failed run", every=1
        )
        truth, ours = field_sets(real, major), field_sets(emulated, major)
    differences = {
        kind: {
            "missing": sorted(truth[kind] - ours[kind]),
            "extra": sorted(ours[kind] - truth[kind]),
        }
        for kind in truth
        if truth[kind] != ours[kind]
    }
    assert differences == {}


@pytest.mark.django_db(transaction=True)  # the live server Airflow reports to reads it
@pytest.mark.parametrize("major", [2, 3])
def test_a_failing_dag_is_pushed_by_airflows_openlineage_provider_before_any_poll(major, airflows):
    airflow = airflows[major]
    team = Group.objects.create(name=f"pushed-{major}")
    pushed = Backend.objects.create(
        name=f"Airflow {major} (pushed)",
        kind="openlineage",
        base_url=airflow.base_url,
        team=team,
        scope={"namespaces": [namespace(major)]},
        push_token_hash=crypto.key_hash(LINEAGE_TOKEN),
    )
    with airflow.client() as client:
        body = {"logical_date": None} if major == 3 else {}
        started = client.post("dags/rb_fails/dagRuns", json=body)
        started.raise_for_status()
    stored = Instance.objects.filter(backend=pushed, parent__isnull=True, name="rb_fails")
    wait_for(
        lambda: stored.filter(status=Status.FAILED).exists(),
        240,
        f"Airflow {major}'s failed rb_fails pushed to Runboard",
        every=1,
    )
    run = stored.get(status=Status.FAILED)
    steps = list(run.children.all())
    edges = list(Edge.objects.filter(parent=run).values_list("upstream_id", "downstream_id"))
    found = culprits(run.status, steps, edges)
    assert [step.name for step in found] == ["reconcile"], [(s.name, s.status) for s in steps]
    assert {s.name for s in steps} >= {"prepare", "reconcile"}
    assert not Poll.objects.exclude(backend=pushed).exists()  # Runboard polled nothing

"""Real Airflow 2 and 3 from PyPI are the judges: Runboard polls them and must store what
their own REST APIs report, field by field, with 0 mismatches, also after a failed run is
cleared (it turns green) and a finished run is deleted (it is marked gone)."""

import pytest

from instances import sync
from instances.models import Backend, Instance, Status
from tests.factories import BackendFactory
from tests.processes import wait_for

from .judge import Judge
from .server import PASSWORD, USER, run_path

pytestmark = [pytest.mark.django_db, pytest.mark.real_airflow]
FINISHED = ("success", "failed")


def poll(backend: Backend) -> None:
    Backend.objects.filter(pk=backend.pk).update(claimed_until=None)
    outcome = sync.poll_backend(backend.pk)
    backend.refresh_from_db()
    assert outcome.outcome == "ok", backend.last_error


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
        assert backend.scope.get("api_version") in (None, "")  # found by probing

        # on-call opens the gate and clears the failed run: it must turn green in Runboard
        client.post("variables", json={"key": "rb_gate", "value": "open"}).raise_for_status()
        (cleared,) = runs(client, "rb_clearable")
        path = run_path("rb_clearable", cleared["dag_run_id"])
        client.post(f"{path}/clear", json={"dry_run": False}).raise_for_status()
        wait_for(
            lambda: client.get(path).json()["state"] == "success",
            180,
            "the cleared run succeeding",
            every=1,
        )
        for _ in range(2):
            poll(backend)
        assert judge.mismatches() == []
        stored = Instance.objects.get(
            backend=backend, external_id=f"rb_clearable/{cleared['dag_run_id']}"
        )
        assert stored.status == Status.SUCCEEDED and stored.failure_signature is None

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

import csv
import io

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from instances import rollups
from instances.models import ApiToken, Status
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    mine, theirs = BackendFactory(name='mine "quoted"'), BackendFactory(name="theirs")
    user = UserFactory(teams=[mine.team])
    for backend in (mine, theirs):
        for n in range(3):
            InstanceFactory(
                backend=backend,
                name=f"{backend.name} {n}",
                status=Status.FAILED if n == 0 else Status.SUCCEEDED,
            )
    rollups.rebuild()
    return user, mine, theirs, ApiToken.issue(user, "ci")


def bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_api_needs_a_session_or_a_valid_token(world):
    assert Client().get("/api/v1/runs").status_code == 401
    assert bearer("forged").get("/api/v1/runs").status_code == 401
    assert bearer(world[3]).get("/api/v1/runs").status_code == 200


def test_runs_are_scoped_filtered_and_paged(world):
    _, mine, theirs, token = world
    reply = bearer(token).get("/api/v1/runs?status=FAILED").json()
    assert [r["backend_id"] for r in reply["runs"]] == [mine.pk] and reply["next"] is None
    other = theirs.instances.first()
    assert bearer(token).get(f"/api/v1/runs/{other.pk}").status_code == 404


def test_a_run_names_the_step_that_failed_it(world):
    _, mine, _, token = world
    failed = mine.instances.get(status=Status.FAILED)
    InstanceFactory(backend=mine, parent=failed, status=Status.SUCCEEDED)
    culprit = InstanceFactory(backend=mine, parent=failed, status=Status.CANCELED)
    reply = bearer(token).get(f"/api/v1/runs/{failed.pk}").json()
    assert reply["failing_step"] == culprit.pk and culprit.pk in reply["children"]
    fine = mine.instances.filter(status=Status.SUCCEEDED, parent=None).first()
    assert bearer(token).get(f"/api/v1/runs/{fine.pk}").json()["failing_step"] is None


def test_summary_and_backends_never_count_other_teams(world):
    _, mine, _, token = world
    summary = bearer(token).get("/api/v1/summary").json()
    assert summary["by_status"]["FAILED"] == 1 and summary["by_status"]["SUCCEEDED"] == 2
    assert [b["id"] for b in bearer(token).get("/api/v1/backends").json()["backends"]] == [mine.pk]


def test_csv_streams_the_filtered_visible_runs(world):
    _, mine, _, token = world
    reply = bearer(token).get("/runs.csv?not=FAILED")
    content = b"".join(reply.streaming_content).decode()
    assert content.startswith("\ufeff")  # so Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["id", "backend", "kind"] and rows[0][12] == "duration_seconds"
    assert reply["Content-Disposition"].startswith('attachment; filename="runboard-runs-')
    assert sorted(r[3] for r in rows[1:]) == [f"{mine.name} 1", f"{mine.name} 2"]


def scrape(reply) -> dict:
    """(metric name, labels) → value, read by prometheus-client's own parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(reply.content.decode())
        for sample in family.samples
    }


def test_metrics_are_gauges_scraped_by_the_clients_parser(world):
    token = world[3]
    reply = bearer(token).get("/metrics")
    assert reply["Content-Type"].startswith("text/plain; version=")
    found = scrape(reply)
    mine = 'mine "quoted"'  # a quote in a label survives the round trip
    assert found[("runboard_runs", (("backend", mine), ("status", "FAILED")))] == 1
    assert found[("runboard_backend_lag_seconds", (("backend", mine),))] == -1
    assert not any("theirs" in str(labels) for _, labels in found)  # another team's
    families = text_string_to_metric_families(reply.content.decode())
    assert {f.type for f in families} == {"gauge"}  # nothing here only grows

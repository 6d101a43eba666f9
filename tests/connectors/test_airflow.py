"""One Airflow connector for both majors, against the emulated Airflow 2 (/api/v1) and 3
(/airflow3, /api/v2): the API found by probing, Airflow 3's JWTs renewed before they expire
and once when refused, Airflow's own words kept in errors, manual runs, not-yet-scheduled
tasks and the error line of a failed task read alike from both majors' logs."""

import time

import httpx
import pytest

from instances.connectors import http
from instances.connectors.base import BackendConfig, BadPayload, VendorError
from instances.emulator.faults import Fault
from instances.status import Status
from instances.vendors.airflow import demo, emulator_majors
from instances.vendors.airflow.connector import AirflowConnector
from tests.processes import wait_for

CREDENTIALS = {"username": demo.USER, "password": demo.PASSWORD}


class Counting(httpx.HTTPTransport):
    """The real transport, keeping each answer's (method, path, status)."""

    def __init__(self):
        super().__init__()
        self.seen: list[tuple[str, str, int]] = []

    def handle_request(self, request):
        response = super().handle_request(request)
        self.seen.append((request.method, request.url.path, response.status_code))
        return response


def airflow(emulator, major: int, **scope) -> AirflowConnector:
    path = "/airflow3" if major == 3 else ""
    config = BackendConfig(
        base_url=emulator.base_url + path, scope=scope, credentials=CREDENTIALS, name="af"
    )
    return AirflowConnector(config)


def first_runs(connector: AirflowConnector):
    return next(iter(connector.iter_pages(None)))


@pytest.mark.parametrize(("major", "api"), [(2, "v1"), (3, "v2")])
def test_the_api_is_found_by_probing(emulator, major, api):
    connector = airflow(emulator, major)
    assert first_runs(connector) and connector.api == api


def test_airflow_3_tokens_are_renewed_before_they_expire(emulator, monkeypatch):
    monkeypatch.setattr(emulator_majors, "TOKEN_SECONDS", 3)
    counting = Counting()
    with http.use_transport(counting):
        connector = airflow(emulator, 3)
        first_runs(connector)
        auth = connector.client().client.auth
        first = auth.token
        wait_for(lambda: time.monotonic() >= auth.renew_at, 10, "the token's renewal time")
        first_runs(connector)
    assert auth.token != first
    assert [s for s in counting.seen if s[2] == 401] == []  # renewed before, not after, expiry
    assert [s[1] for s in counting.seen].count("/airflow3/auth/token") == 2


def test_a_revoked_airflow_3_token_is_renewed_once_when_refused(emulator):
    counting = Counting()
    with http.use_transport(counting):
        connector = airflow(emulator, 3)
        first_runs(connector)
        httpx.post(f"{emulator.base_url}/_emulator/tokens/expire").raise_for_status()
        assert first_runs(connector)
    refused = [s for s in counting.seen if s[2] == 401]
    assert len(refused) == 1 and refused[0][1].startswith("/airflow3/api/v2/")


def test_errors_keep_airflows_own_words(emulator, monkeypatch):
    monkeypatch.setattr(http, "BACKOFF_BASE", 0.01)
    pinned = airflow(emulator, 3, api_version="v1")  # an Airflow 3 told it speaks /api/v1
    with pytest.raises(VendorError) as removed:
        first_runs(pinned)
    assert removed.value.code == 404
    assert "/api/v1 has been removed in Airflow 3" in removed.value.message
    connector = airflow(emulator, 3)
    with pytest.raises(VendorError) as invalid:
        connector.get("dags/~/dagRuns", limit="many")
    assert invalid.value.code == 422 and invalid.value.message.startswith("query.limit: ")


@pytest.mark.parametrize("major", [2, 3])
def test_manual_runs_and_not_yet_scheduled_tasks(emulator, major):
    connector = airflow(emulator, major)
    runs = [r for page in connector.iter_pages(None) for r in page]
    manual = [r for r in runs if "manual" in r.flags]
    assert manual and len(manual) < len(runs) / 5
    assert all(
        r.planned_at is not None and r.external_id.split("/")[1].startswith("manual__")
        for r in manual
    )  # Airflow 3: no logical date; run_after is when it was due
    queued = next(r for r in runs if r.status == Status.PENDING)
    steps = connector.detail(queued.external_id)[1:]
    waiting = [s for s in steps if s.vendor_status == "none"]
    assert waiting and all(s.status == Status.PENDING and "no_status" in s.flags for s in waiting)


def test_both_majors_read_the_same_error_line_from_their_logs(emulator):
    errors = {}
    for major in (2, 3):
        connector = airflow(emulator, major)
        runs = [r for page in connector.iter_pages(None) for r in page]
        failed = next(
            r for r in sorted(runs, key=lambda r: r.external_id) if r.status == Status.FAILED
        )
        steps = connector.with_log_errors(connector.detail(failed.external_id)[1:])
        errors[major] = [s.error_message for s in steps if s.status == Status.FAILED]
    assert errors[2] == errors[3] and errors[2][0].startswith("AirflowException: ")
    assert "\n" not in errors[2][0]


def test_a_log_answer_that_is_not_an_object_is_a_bad_payload():
    """A hostile or broken log answer is a clear, typed error, never a crash of the page."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=["not an object"]))
    config = BackendConfig(
        base_url="http://airflow.test", scope={"api_version": "v2"}, credentials={"token": "t"}
    )
    with http.use_transport(transport), pytest.raises(BadPayload, match="not an object"):
        AirflowConnector(config).fetch_log("d/r/t", "d/dagRuns/r/taskInstances/t/logs/1", 100)


def test_a_failing_tries_answer_costs_neither_the_run_nor_its_steps(emulator, monkeypatch):
    monkeypatch.setattr(http, "BACKOFF_BASE", 0.01)
    connector = airflow(emulator, 2)
    runs = [r for page in connector.iter_pages(None) for r in page]
    retried = next(
        r for r in runs if any((s.attempts or 0) > 1 for s in connector.detail(r.external_id)[1:])
    )
    emulator.faults["airflow"] = Fault(malformed_rate=1, endpoint="/tries")  # not JSON
    read = airflow(emulator, 2).detail(retried.external_id)
    assert read[0].external_id == retried.external_id and len(read) > 1
    assert all(step.tries == () for step in read[1:])

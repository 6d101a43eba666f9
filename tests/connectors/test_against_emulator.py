"""Each connector against the emulator over real HTTP: a full poll, and each failure surfacing
as its typed error after the configured retries."""

from datetime import timedelta

import httpx
import pytest

from instances.connectors import http
from instances.connectors.base import (
    AuthError,
    BackendConfig,
    BadPayload,
    ConnectorError,
    RateLimited,
    VendorError,
)
from instances.connectors.normalize import gmt_zone
from instances.emulator.faults import Fault
from instances.errors import kind
from instances.registry import CONNECTORS
from instances.status import Status
from instances.vendors.airflow import demo as airflow_demo
from instances.vendors.dataarts_factory import demo as dataarts_demo
from instances.vendors.enos_batch_v21 import demo as enos_demo
from instances.vendors.ocp import demo as ocp_demo

ENOS_SCOPE = {"orgId": enos_demo.ORG_ID, "userId": enos_demo.USER_ID}
ENOS_KEYS = {"app_key": enos_demo.APP_KEY, "app_secret": enos_demo.APP_SECRET}
AIRFLOW = {"username": airflow_demo.USER, "password": airflow_demo.PASSWORD}
OCP_BASIC = {"username": ocp_demo.USER, "password": ocp_demo.PASSWORD}
OCP_KEYS = {
    "access_key_id": ocp_demo.ACCESS_KEY_ID,
    "access_key_secret": ocp_demo.ACCESS_KEY_SECRET,
}
HUAWEI = {
    "username": dataarts_demo.USER,
    "password": dataarts_demo.PASSWORD,
    "domain_name": dataarts_demo.DOMAIN,
}
HUAWEI_AKSK = {"ak": dataarts_demo.AK, "sk": dataarts_demo.SK}  # what the SDKs sign with by default
FACTORY_SCOPE = {"project_id": dataarts_demo.PROJECT_ID, "workspace": dataarts_demo.INSTANCE}
DATAMAP_SCOPE = {
    "project_id": dataarts_demo.PROJECT_ID,
    "instance": dataarts_demo.INSTANCE,
    "table_guid": "orders",
}
BACKENDS = {  # test id → (the API: backend kind, emulator and fault name; scope; credentials)
    "ocp-basic": ("ocp", {}, OCP_BASIC),
    "ocp-access-key": ("ocp", {}, OCP_KEYS),
    "enos-v2.1": ("enos_batch_v21", ENOS_SCOPE, ENOS_KEYS),
    "enos-v2.0": ("enos_dataflow_v20", ENOS_SCOPE, ENOS_KEYS),
    "dataarts-factory": ("dataarts_factory", FACTORY_SCOPE, HUAWEI),
    "dataarts-datamap": ("dataarts_datamap", DATAMAP_SCOPE, HUAWEI),
    "dataarts-factory-aksk": ("dataarts_factory", FACTORY_SCOPE, HUAWEI_AKSK),
    "dataarts-datamap-aksk": ("dataarts_datamap", DATAMAP_SCOPE, HUAWEI_AKSK),
    "airflow": ("airflow", {}, AIRFLOW),
    "airflow-3": ("airflow", {}, AIRFLOW),
}
BASE_PATHS = {"airflow-3": "/airflow3"}  # APIs served below the emulator's root
# What each vendor's status becomes: OCP tasks know no pending, and end FAILED when canceled.
ENOS_AND_DATAARTS = {
    "pending": Status.PENDING,
    "running": Status.RUNNING,
    "succeeded": Status.SUCCEEDED,
    "skipped": Status.SKIPPED,
    "failed": Status.FAILED,
    "timeout": Status.FAILED,
    "canceled": Status.CANCELED,
}
EXPECTED = {
    "ocp": {
        "pending": Status.RUNNING,
        "running": Status.RUNNING,
        "succeeded": Status.SUCCEEDED,
        "skipped": Status.SUCCEEDED,
        "failed": Status.FAILED,
        "timeout": Status.FAILED,
        "canceled": Status.FAILED,
    },
    "enos_batch_v21": ENOS_AND_DATAARTS,
    "enos_dataflow_v20": ENOS_AND_DATAARTS,
    "dataarts_factory": ENOS_AND_DATAARTS,
    "dataarts_datamap": ENOS_AND_DATAARTS,
    "airflow": {
        "pending": Status.PENDING,
        "running": Status.RUNNING,
        "succeeded": Status.SUCCEEDED,
        "skipped": Status.SUCCEEDED,
        "failed": Status.FAILED,
        "timeout": Status.FAILED,
        "canceled": Status.FAILED,
    },
}


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(http, "BACKOFF_BASE", 0.01)
    monkeypatch.setattr(http, "TIMEOUT", 1.0)


def connector(emulator, name, **credential_overrides):
    kind, scope, credentials = BACKENDS[name]
    config = BackendConfig(
        base_url=emulator.base_url + BASE_PATHS.get(name, ""),
        scope=scope,
        credentials=credentials | credential_overrides,
    )
    return CONNECTORS[kind](config)


@pytest.mark.parametrize("name", BACKENDS)
def test_a_full_poll_returns_every_emulated_run_once_with_its_status(emulator, name):
    vendor = BACKENDS[name][0]
    truth = httpx.get(f"{emulator.base_url}/_emulator/truth/{vendor}").json()
    truth.pop("35000312", None)  # the seed sample, from 2021, is outside the polling window
    records = [r for page in connector(emulator, name).iter_pages(None) for r in page]
    # DataArts: "job name/instance id", the truth says the instance; Airflow: "dag/run" both
    ids = [
        r.external_id if r.external_id in truth else r.external_id.rpartition("/")[2]
        for r in records
    ]
    assert len(ids) == len(set(ids)) == len(truth) > 50
    table = EXPECTED[vendor]
    assert dict(zip(ids, (r.status for r in records), strict=True)) == {
        k: table[v] for k, v in truth.items()
    }


@pytest.mark.parametrize("name", [n for n in BACKENDS if "datamap" not in n])
def test_detail_children_match_the_emulated_graph(emulator, name):
    conn = connector(emulator, name)
    first = next(iter(conn.iter_pages(None)))[0]
    root, *children = conn.expand([first])
    assert root.has_children and children
    assert {c.parent_id for c in children} == {root.external_id}
    child_ids = {c.external_id for c in children}
    assert root.edges and all(up in child_ids and down in child_ids for up, down in root.edges)


@pytest.mark.parametrize("name", BACKENDS)
def test_wrong_credentials_raise_auth_error(emulator, name):
    secret = {
        "ocp-access-key": "access_key_secret",
        "enos-v2.1": "app_secret",
        "enos-v2.0": "app_secret",
        "dataarts-factory-aksk": "sk",
        "dataarts-datamap-aksk": "sk",
    }.get(name, "password")
    with pytest.raises(AuthError):
        next(iter(connector(emulator, name, **{secret: "wrong"}).iter_pages(None)))


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(error_rate=1.0, status=429, retry_after=0), RateLimited),
        (Fault(error_rate=1.0, status=503), VendorError),
        (Fault(error_rate=1.0, status=500), VendorError),
        (Fault(latency=1.5), ConnectorError),  # past the 1 s timeout
        (Fault(malformed_rate=1.0), BadPayload),
        (Fault(reset_rate=1.0), ConnectorError),
    ],
    ids=["429", "503", "500", "timeout", "malformed", "reset"],
)
@pytest.mark.parametrize("name", ["ocp-basic", "enos-v2.1", "dataarts-factory"])
def test_vendor_failures_surface_as_typed_errors(emulator, name, fault, error):
    emulator.faults[BACKENDS[name][0]] = fault
    with pytest.raises(error):
        next(iter(connector(emulator, name).iter_pages(None)))


def test_an_oversized_page_is_refused_not_read_whole(emulator, monkeypatch):
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 1_000_000)
    emulator.faults["ocp"] = Fault(padding_bytes=2_000_000)
    with pytest.raises(BadPayload, match="over 1000000 bytes"):
        next(iter(connector(emulator, "ocp-basic").iter_pages(None)))


def test_a_fault_can_target_one_endpoint(emulator):
    emulator.faults["enos_batch_v21"] = Fault(error_rate=1.0, status=500, endpoint="action=getLog")
    conn = connector(emulator, "enos-v2.1")
    flow = next(iter(conn.iter_pages(None)))[0]  # search and detail still answer
    task = conn.expand([flow])[1]
    with pytest.raises(VendorError):
        conn.fetch_log(task.external_id, task.log_locator, 1000)


def test_an_expired_enos_token_is_fetched_again(emulator):
    conn = connector(emulator, "enos-v2.1")
    next(iter(conn.iter_pages(None)))
    httpx.post(f"{emulator.base_url}/_emulator/tokens/expire")
    assert next(iter(conn.iter_pages(None)))


class CountingTransport(httpx.HTTPTransport):
    def __init__(self):
        super().__init__()
        self.task_details: list[str] = []

    def handle_request(self, request):
        if request.url.path.endswith("/taskInstances") and request.url.params["action"] == "get":
            self.task_details.append(request.url.params["taskInstId"])
        return super().handle_request(request)


def test_enos_asks_again_only_about_tasks_not_finished(emulator, monkeypatch):
    from instances.vendors.enos_batch_v21 import connector as enos

    monkeypatch.setattr(enos, "FINISHED_TASKS", enos.FinishedTasks(size=1000))
    truth = httpx.get(f"{emulator.base_url}/_emulator/truth/enos_batch_v21").json()
    running = [run_id for run_id, status in truth.items() if status == "running"]
    counting = CountingTransport()
    with http.use_transport(counting):
        first = connector(emulator, "enos-v2.1").refresh(running)  # one poll ...
        asked_first = len(counting.task_details)
        again = connector(emulator, "enos-v2.1").refresh(running)  # ... and the next
    tasks = [r for r in first if r.parent_id]
    unfinished = [r for r in tasks if not r.status.is_terminal]
    assert running and 0 < len(unfinished) < len(tasks) == asked_first
    assert sorted(counting.task_details[asked_first:]) == sorted(r.external_id for r in unfinished)
    assert again == first  # the same records, cached or asked
    # a task whose graph status moved on (a rerun, a forced end) is asked about again
    flow = next(r.parent_id for r in tasks if r.status.is_terminal)  # one with a cached task
    httpx.post(
        f"{emulator.base_url}/_emulator/runs/enos_batch_v21/{flow}/status",
        json={"status": "failed"},
    )
    counting.task_details.clear()
    with http.use_transport(counting):
        forced = connector(emulator, "enos-v2.1").refresh([flow])
    assert sorted(counting.task_details) == sorted(r.external_id for r in forced if r.parent_id)


def test_every_factory_run_gets_its_dag_from_the_job_definition(emulator):
    """ShowJob gives one DAG per job; it must be each run's own, not only the newest's."""
    conn = connector(emulator, "dataarts-factory")
    runs = [r for page in conn.iter_pages(None) for r in page]
    checked = 0
    for listed in runs[::7]:
        root, *children = conn.expand([listed])
        run = emulator.scenario.find_seq("dataarts_factory", int(root.raw["instanceId"]))
        names = {step.id: step.name for step in run.steps}
        truth = {(names[up], step.name) for step in run.steps for up in step.upstream}
        named = {child.external_id: child.name for child in children}
        assert {(named[up], named[down]) for up, down in root.edges} == truth
        checked += 1
    assert checked > 3


@pytest.mark.parametrize("name", ["ocp-basic", "enos-v2.1", "dataarts-factory"])
def test_failed_steps_say_why_in_words(emulator, name):
    """A vendor with no error field (OCP, EnOS tasks) is read from the failed step's log tail;
    DataArts Factory says it in the job's errorMessage."""
    conn = connector(emulator, name)
    failed = [r for page in conn.iter_pages(None) for r in page if r.status == Status.FAILED]
    records = conn.expand(failed[:10])
    explained = [r for r in records if r.status == Status.FAILED and r.error_message]
    assert explained, "no failed step or run carried an error"
    for record in explained:
        assert kind(record.error_message) or "KeyError" in record.error_message, record


def test_enos_times_are_in_the_vendors_zone_unless_the_backend_names_one(emulator):
    def first_started(zone: str):
        kind, scope, credentials = BACKENDS["enos-v2.1"]
        conn = CONNECTORS[kind](
            BackendConfig(
                base_url=emulator.base_url, scope=scope, credentials=credentials, timezone=zone
            )
        )
        record = next(r for page in conn.iter_pages(None) for r in page if r.started_at)
        return record, emulator.scenario.find("enos_batch_v21", record.external_id).start

    asked, truth = first_started("")  # getTimeZone says GMT+8, the emulator's own zone
    assert asked.started_at == truth
    told, truth = first_started("UTC")  # a backend that names a zone is believed
    assert told.started_at - truth == timedelta(hours=8)


@pytest.mark.parametrize(
    ("said", "zone"),
    [("GMT+8", "Etc/GMT-8"), ("GMT-5", "Etc/GMT+5"), ("GMT+0", "UTC"), ("CST", None), ("", None)],
)
def test_gmt_offsets_become_iana_zones(said, zone):
    assert gmt_zone(said) == zone

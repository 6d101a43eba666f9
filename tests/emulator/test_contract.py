"""The emulator answers like the documents: for every seed sample, the same request gets the
same keys, types, envelope and nesting; auth failures come in each vendor's own shape; paging
visits every record exactly once."""

import json
import os
import subprocess
import sys

import httpx
import pytest

from instances.emulator.runner import free_port
from instances.vendors.airflow import demo as airflow_demo
from instances.vendors.dataarts_factory import demo as dataarts_demo
from instances.vendors.enos_batch_v21 import demo as enos_demo
from instances.vendors.enos_batch_v21.apim import ApimAuth
from instances.vendors.enos_batch_v21.payloads import parse_json
from instances.vendors.ocp import demo as ocp_demo
from tests.connectors.conftest import fixture_json, fixture_text
from tests.processes import ROOT, wait_for

ENOS_QUERY = {"orgId": enos_demo.ORG_ID, "userId": enos_demo.USER_ID}
HUAWEI_BODY = {
    "auth": {
        "identity": {
            "methods": ["password"],
            "password": {
                "user": {
                    "name": dataarts_demo.USER,
                    "password": dataarts_demo.PASSWORD,
                    "domain": {"name": dataarts_demo.DOMAIN},
                }
            },
        },
        "scope": {"project": {"id": dataarts_demo.PROJECT_ID}},
    }
}
PROJECT = f"/v1/{dataarts_demo.PROJECT_ID}"


def shape(value):
    """Keys, JSON types and nesting, without the values (null matches anything)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return (
        None
        if value is None
        else type(value).__name__.replace("int", "number").replace("float", "number")
    )


def same_shape(sample, actual, path="$"):
    if sample is None or actual is None:
        return
    if isinstance(sample, dict):
        assert isinstance(actual, dict), path
        assert set(sample) == set(actual), f"{path}: {set(sample) ^ set(actual)}"
        for key in sample:
            same_shape(sample[key], actual[key], f"{path}.{key}")
    elif isinstance(sample, list):
        assert isinstance(actual, list), path
        if sample and actual:
            same_shape(sample[0], actual[0], f"{path}[0]")
    else:
        assert shape(sample) == shape(actual), f"{path}: {sample!r} vs {actual!r}"


@pytest.fixture
def enos(emulator):
    client = httpx.Client(
        base_url=emulator.base_url,
        auth=ApimAuth(emulator.base_url, enos_demo.APP_KEY, enos_demo.APP_SECRET),
    )
    yield client
    client.close()


@pytest.fixture
def huawei(emulator):
    token = httpx.post(f"{emulator.base_url}/v3/auth/tokens", json=HUAWEI_BODY)
    assert token.status_code == 201
    headers = {
        "X-Auth-Token": token.headers["X-Subject-Token"],
        "instance": dataarts_demo.INSTANCE,
        "workspace": dataarts_demo.INSTANCE,
    }
    with httpx.Client(base_url=emulator.base_url, headers=headers) as client:
        yield client


def test_ocp_task_detail_matches_seed_003(emulator):
    ocp = httpx.Client(base_url=emulator.base_url, auth=(ocp_demo.USER, ocp_demo.PASSWORD))
    listed = ocp.get("/api/v2/tasks/instances", params={"page": 1, "size": 1}).json()
    detail = ocp.get(f"/api/v2/tasks/instances/{listed['data']['contents'][0]['id']}").json()
    sample = fixture_json("ocp/samples/task_detail_seed003.json")
    # the document's table also lists cluster and tenant, which its sample leaves out
    for documented in ("cluster", "tenant"):
        assert documented in detail["data"]
        del detail["data"][documented]
    same_shape(sample, detail)
    # the seed's own record is in the initial state, as printed
    assert ocp.get("/api/v2/tasks/instances/35000312").json()["data"] == sample["data"]


def test_enos_v21_task_instance_matches_seed_000(enos):
    flows = enos.post(
        "/batch-processing-service/v2.1/flowInstances",
        params={"action": "search", **ENOS_QUERY},
        content=b'{"type":1,"pagination":{"pageNo":0,"pageSize":1}}',
    ).json()
    graph = json.loads(flows["data"]["flowInsts"][0]["graph"])
    task = enos.get(
        "/batch-processing-service/v2.1/taskInstances",
        params={"action": "get", "taskInstId": graph["tasks"][0]["taskInstId"], **ENOS_QUERY},
    ).json()
    sample = fixture_json("enos_batch_v21/samples/task_instance_seed000.json")
    same_shape(sample, {k: v for k, v in task.items() if k != "requestId"})
    assert task["msg"] == "OK" and task["code"] == 0


@pytest.mark.parametrize(
    ("service", "fixture", "result_key", "message"),
    [
        (
            "batch-processing-service/v2.1",
            "enos_batch_v21/samples/flow_instance_seed001.json",
            "code",
            "OK",
        ),
        (
            "dataflow-batch-service/v2.0",
            "enos_dataflow_v20/samples/flow_instance_seed004.txt",
            "status",
            " Success",
        ),
    ],
)
def test_enos_flow_instance_matches_seeds_001_and_004(enos, service, fixture, result_key, message):
    search = enos.post(
        f"/{service}/flowInstances",
        params={"action": "search", **ENOS_QUERY},
        content=b'{"type":1,"pagination":{"pageNo":0,"pageSize":1}}',
    ).json()
    flow_id = search["data"]["flowInsts"][0]["instanceId"]
    reply = enos.get(
        f"/{service}/flowInstances", params={"action": "get", "flowInstId": flow_id, **ENOS_QUERY}
    ).json()
    sample = parse_json(fixture_text(fixture))
    assert reply[result_key] == 0 and reply["msg"] == message
    same_shape(sample["data"] | {"graph": None}, reply["data"] | {"graph": None})
    # graph: a JSON string in both, with the same keys as the version's own sample (v2.1
    # do_as and app_id, v2.0 doAs and appId)
    assert isinstance(reply["data"]["graph"], str)
    same_shape(json.loads(sample["data"]["graph"]), json.loads(reply["data"]["graph"]))


@pytest.mark.parametrize(
    ("path", "query", "sample"),
    [
        (
            "batch-processing-service/v2.1/flowInstances",
            {"flowInstId": "2809-20190808093200"},
            "enos_batch_v21/samples/flow_instance_seed001.json",
        ),
        (
            "batch-processing-service/v2.1/taskInstances",
            {"taskInstId": "118979-2021020211"},
            "enos_batch_v21/samples/task_instance_seed000.json",
        ),
        (
            "dataflow-batch-service/v2.0/flowInstances",
            {"flowInstId": "2809-20190808093200"},
            "enos_dataflow_v20/samples/flow_instance_seed004.txt",
        ),
    ],
)
def test_every_enos_seed_record_is_served_under_its_documented_id(enos, path, query, sample):
    reply = enos.get(f"/{path}", params={"action": "get", **query, **ENOS_QUERY})
    assert reply.status_code == 200 and reply.text == fixture_text(sample)  # as printed


@pytest.mark.parametrize(
    ("path", "sample"),
    [
        (
            "batch-processing-service/v2.1/flowInstances",
            "enos_batch_v21/samples/flow_instance_seed001_data.json",
        ),
        (
            "dataflow-batch-service/v2.0/flowInstances",
            "enos_dataflow_v20/samples/flow_instance_seed004_data.txt",
        ),
    ],
)
def test_the_enos_data_struct_samples_are_served_inside_an_envelope(enos, path, sample):
    reply = enos.get(
        f"/{path}", params={"action": "get", "flowInstId": "2438-201907261239", **ENOS_QUERY}
    )
    assert parse_json(reply.text)["data"] == parse_json(fixture_text(sample))


def test_the_datamap_seed_operator_answers_its_documented_reply(huawei):
    reply = huawei.get(
        f"{PROJECT}/datamap/node/937987/instances",
        params={
            "job_name": "ETL_Job_dli2dws",
            "start_time": 0,
            "end_time": 1,
            "offset": 0,
            "limit": 10,
        },
    )
    assert reply.json() == fixture_json("dataarts_datamap/samples/operator_instances_seed002.json")
    assert json.loads(reply.json()["body"])["rows"]


def test_datamap_output_information_matches_seed_002(emulator, huawei):
    operator = huawei.get(f"{PROJECT}/datamap/table/orders/node").json()[0]
    now = int(emulator.scenario.now().timestamp() * 1000)
    reply = huawei.get(
        f"{PROJECT}/datamap/node/{operator['task_id']}/instances",
        params={
            "job_name": operator["job_name"],
            "start_time": now - 86_400_000,
            "end_time": now,
            "offset": 0,
            "limit": 10,
        },
    ).json()
    sample = fixture_json("dataarts_datamap/samples/operator_instances_seed002.json")
    assert set(reply) == set(sample) and isinstance(reply["body"], str)
    body, sample_body = json.loads(reply["body"]), json.loads(sample["body"])
    same_shape(sample_body, body)
    assert body["rows"], "the operator ran in the last day"
    for nested in ("runningData", "runningParam"):  # the third level of encoding
        assert isinstance(json.loads(body["rows"][0][nested]), dict)


def test_auth_failures_come_in_each_vendors_own_shape(emulator):
    base = emulator.base_url
    ocp = httpx.get(f"{base}/api/v2/tasks/instances", auth=("admin", "nope"))
    assert ocp.status_code == 401 and ocp.json()["successful"] is False
    assert ocp.json()["error"]["code"] == 30000
    enos = httpx.get(
        f"{base}/batch-processing-service/v2.1/flowInstances",
        params={"action": "get"},
        headers={"apim-accesstoken": "forged"},
    )
    assert enos.status_code == 401 and enos.json()["apim_status"] == 4012
    token = httpx.post(
        f"{base}/apim-token-service/v2.0/token/get",
        json={"appKey": enos_demo.APP_KEY, "encryption": "x", "timestamp": 1},
    )
    assert token.json()["status"] == 1003
    huawei = httpx.get(f"{base}{PROJECT}/jobs/instances/detail", headers={"X-Auth-Token": "x"})
    assert huawei.status_code == 401 and huawei.json()["error_code"] == "APIG.0301"
    iam = httpx.post(
        f"{base}/v3/auth/tokens",
        json={
            "auth": {
                "identity": {
                    "password": {"user": {"name": "x", "password": "y", "domain": {"name": "z"}}}
                }
            }
        },
    )
    assert iam.status_code == 401 and iam.json()["error"]["title"] == "Unauthorized"


def test_paging_visits_every_record_exactly_once(emulator, enos, huawei):
    truth = lambda vendor: httpx.get(f"{emulator.base_url}/_emulator/truth/{vendor}").json()  # noqa: E731
    ocp = httpx.Client(base_url=emulator.base_url, auth=(ocp_demo.USER, ocp_demo.PASSWORD))
    seen, page = [], 1
    while contents := ocp.get("/api/v2/tasks/instances", params={"page": page, "size": 7}).json()[
        "data"
    ]["contents"]:
        seen += [str(task["id"]) for task in contents]
        page += 1
    assert sorted(seen) == sorted(truth("ocp"))
    seen = []
    for flow_type in (0, 1, 2):  # manual, periodic, temporary: a search takes one type
        page_no = 0
        while flows := enos.post(
            "/batch-processing-service/v2.1/flowInstances",
            params={"action": "search", **ENOS_QUERY},
            content=json.dumps(
                {"type": flow_type, "pagination": {"pageNo": page_no, "pageSize": 9}}
            ).encode(),
        ).json()["data"]["flowInsts"]:
            seen += [flow["instanceId"] for flow in flows]
            page_no += 1
        assert seen, f"no flow of type {flow_type}"
    assert sorted(seen) == sorted(truth("enos_batch_v21"))
    now = int(emulator.scenario.now().timestamp() * 1000)
    seen, offset = [], 0
    window = {"minPlanTime": now - 7 * 86_400_000 + 1, "maxPlanTime": now, "limit": 11}
    while rows := huawei.get(
        f"{PROJECT}/jobs/instances/detail", params=window | {"offset": offset}
    ).json()["instances"]:
        seen += [str(row["instanceId"]) for row in rows]
        offset += len(rows)
    assert sorted(seen) == sorted(truth("dataarts_factory"))


def test_factory_refuses_windows_longer_than_seven_days(huawei):
    reply = huawei.get(
        f"{PROJECT}/jobs/instances/detail", params={"minPlanTime": 0, "maxPlanTime": 8 * 86_400_000}
    )
    assert reply.status_code == 400 and reply.json()["error_code"].startswith("DLF.")


def test_schema_drift_fault_drops_retypes_and_adds_fields(emulator):
    from instances.emulator.faults import Fault

    ocp = httpx.Client(base_url=emulator.base_url, auth=(ocp_demo.USER, ocp_demo.PASSWORD))
    clean = ocp.get("/api/v2/tasks/instances", params={"size": 1}).json()
    emulator.faults["ocp"] = Fault(drift_rate=1.0)
    drifted = ocp.get("/api/v2/tasks/instances", params={"size": 1}).json()
    assert "undocumentedField" in json.dumps(drifted)
    assert "undocumentedField" not in json.dumps(clean)
    path = path_to(drifted, "undocumentedField")
    assert path is not None and path_to(clean, "undocumentedField") is None
    before, after = clean, drifted
    for step in path:
        before, after = before[step], after[step]
    assert len(set(before) - set(after)) == 1  # one documented field went missing


def path_to(value, key: str) -> list | None:
    """Where in a JSON document the object holding `key` is (list of keys and indexes)."""
    if isinstance(value, dict):
        if key in value:
            return []
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for step, inner in items:
        if (found := path_to(inner, key)) is not None:
            return [step, *found]
    return None


def test_emulate_command_serves_each_vendor_on_its_own_port(tmp_path):
    import os
    import re
    import subprocess
    import sys

    from instances.registry import VENDORS
    from tests.processes import ROOT, free_ports, wait_for

    port = free_ports(len(VENDORS))  # one port per vendor, in a row
    log = tmp_path / "emulate.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "emulate", f"--port={port}", "--separate-ports"],
            cwd=ROOT,
            env=os.environ | {"SECRET_KEY": "t"},
            stdout=out,
        )
    try:
        wait_for(lambda: "ready in" in log.read_text(), 20, "the emulator")
        ports = {
            vendor: int(number)
            for vendor, number in re.findall(
                r"^(\w+): http://127.0.0.1:(\d+)/", log.read_text(), re.M
            )
        }
        assert sorted(ports) == sorted(VENDORS) and len(set(ports.values())) == len(VENDORS)

        def answers(port):
            url = f"http://127.0.0.1:{port}/api/v2/tasks/instances"
            try:
                return httpx.get(url, auth=(ocp_demo.USER, ocp_demo.PASSWORD), timeout=2)
            except httpx.HTTPError:  # printed its ports, not listening yet
                return None

        assert wait_for(lambda: answers(ports["ocp"]), 20, "the OCP port").status_code == 200
        assert answers(ports["enos_batch_v21"]).status_code == 404  # EnOS's port serves EnOS only
    finally:
        proc.terminate()
        proc.wait()


def test_manage_py_emulate_runs_as_the_readme_shows_with_nothing_set(tmp_path):
    """No SECRET_KEY, DEBUG or database: the emulator is a tool, not a Runboard."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    log = (tmp_path / "emulator.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "emulate", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def answers():
        try:
            return httpx.get(
                f"http://127.0.0.1:{port}/api/v2/tasks/instances",
                auth=(ocp_demo.USER, ocp_demo.PASSWORD),
                timeout=2,
            )
        except httpx.HTTPError:
            return None

    try:
        wait_for(lambda: server.poll() is not None or answers(), 30, "the emulator")
        assert server.poll() is None, (tmp_path / "emulator.log").read_text()
        reply = answers()
        assert reply.status_code == 200 and reply.json()["data"]["contents"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_airflow_pages_filters_and_refuses_as_airflow_2_does(emulator):
    truth = httpx.get(f"{emulator.base_url}/_emulator/truth/airflow").json()
    airflow = httpx.Client(
        base_url=f"{emulator.base_url}/api/v1", auth=(airflow_demo.USER, airflow_demo.PASSWORD)
    )
    seen, offset = [], 0
    while runs := airflow.get(
        "/dags/~/dagRuns", params={"limit": 7, "offset": offset, "order_by": "-execution_date"}
    ).json()["dag_runs"]:
        seen += [f"{run['dag_id']}/{run['dag_run_id']}" for run in runs]
        offset += 7
    assert sorted(seen) == sorted(truth)
    failed = airflow.get("/dags/~/dagRuns", params={"state": "failed"}).json()
    assert failed["total_entries"] == sum(
        s in ("failed", "timeout", "canceled") for s in truth.values()
    )
    later = emulator.scenario.now().isoformat()
    assert airflow.get("/dags/~/dagRuns", params={"updated_at_gte": later}).json()[
        "total_entries"
    ] < len(truth)
    big = airflow.get("/dags/~/dagRuns", params={"limit": 1000}).json()
    assert len(big["dag_runs"]) == 100  # maximum_page_limit
    naive = airflow.get("/dags/~/dagRuns", params={"execution_date_gte": "2026-01-01T00:00:00"})
    assert naive.status_code == 400 and naive.json()["title"] == "Bad Request"
    bad_order = airflow.get("/dags/~/dagRuns", params={"order_by": "owner"})
    assert bad_order.status_code == 400
    gone = airflow.get("/dags/etl_0/dagRuns/scheduled__2020-01-01T00:00:00+00:00")
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["title"] == "DAGRun not found"

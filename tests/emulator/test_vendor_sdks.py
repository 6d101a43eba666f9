"""The vendors' own clients are the judges of the emulator: Huawei's official SDKs
(huaweicloudsdkcore with huaweicloudsdkdlf for DataArts Factory v1 and
huaweicloudsdkdataartsstudio for v2) call it with their default authentication, AK/SK; a wrong
secret key and a stale signature are refused as APIG refuses them. EnOS's poseidon carries
APIM's headers. Airflow's apache-airflow-client reads DAG runs, task instances, the DAG's
tasks and a log with Basic auth, validating every field against the API's own schema."""

import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import airflow_client.client as airflow
import httpx
import pytest
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DAGRunApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.model.clear_task_instances import ClearTaskInstances
from airflow_client.client.model.dag import DAG
from airflow_client.client.model.dag_run import DAGRun
from airflow_client.client.model.update_dag_run_state import UpdateDagRunState
from airflow_client.client.model.update_task_instance import UpdateTaskInstance
from airflow_client.client.model.update_task_state import UpdateTaskState
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkdataartsstudio.v1 import (
    DataArtsStudioClient,
    ListFactoryJobInstancesByNameRequest,
)
from huaweicloudsdkdlf.v1 import (
    DlfClient,
    ListJobInstancesRequest,
    RestoreJobInstanceRequest,
    ShowJobInstanceRequest,
    StopJobInstanceRequest,
)
from poseidon import poseidon

from instances.vendors.airflow import demo as airflow_demo
from instances.vendors.dataarts_factory import demo as dataarts_demo
from instances.vendors.dataarts_factory.emulator_records import job_name
from instances.vendors.dataarts_factory.signing import (
    HUAWEI_DATE_FORMAT,
    huawei_canonical_request,
    huawei_signature,
)
from instances.vendors.enos_batch_v21 import demo as enos_demo
from instances.vendors.enos_batch_v21.apim import ApimAuth
from instances.vendors.enos_batch_v21.signing import enos_signature


def client(kind, emulator, secret_key: str = dataarts_demo.SK):
    credentials = BasicCredentials(dataarts_demo.AK, secret_key, dataarts_demo.PROJECT_ID)
    return (
        kind.new_builder().with_credentials(credentials).with_endpoints([emulator.base_url]).build()
    )


def today(emulator) -> list:
    now = emulator.scenario.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [r for r in emulator.scenario.visible("dataarts_factory") if r.planned >= midnight]


def test_the_dlf_sdk_lists_and_reads_job_instances_with_aksk(emulator):
    dlf = client(DlfClient, emulator)
    listed = dlf.list_job_instances(ListJobInstancesRequest(workspace=dataarts_demo.INSTANCE))
    expected = today(emulator)
    assert listed.total == len(expected) > 0
    assert {i.job_name for i in listed.instances} == {job_name(r.definition_id) for r in expected}
    # the SDK's models call the id "instancesId", the API reference (which the emulator and the
    # connector follow) "instanceId": the SDK reads it as None, so the id comes from the truth
    run = expected[0]
    detail = dlf.show_job_instance(
        ShowJobInstanceRequest(
            job_name=job_name(run.definition_id),
            instance_id=str(run.seq),
            workspace=dataarts_demo.INSTANCE,
        )
    )
    assert len(detail.nodes) == detail.total == len(run.steps)
    assert {node.node_name for node in detail.nodes} == {step.name for step in run.steps}


def test_the_dataartsstudio_sdk_lists_one_jobs_instances_with_aksk(emulator):
    studio = client(DataArtsStudioClient, emulator)
    wanted = today(emulator)[0]
    name = job_name(wanted.definition_id)
    listed = studio.list_factory_job_instances_by_name(
        ListFactoryJobInstancesByNameRequest(
            job_name=name, workspace=dataarts_demo.INSTANCE, limit=100
        )
    )
    assert listed.total == sum(job_name(r.definition_id) == name for r in today(emulator))
    assert {i.job_name for i in listed.instances} == {name}
    assert wanted.seq in {i.instance_id for i in listed.instances}


def test_a_wrong_secret_key_is_refused(emulator):
    dlf = client(DlfClient, emulator, secret_key="not-the-secret-key")
    with pytest.raises(ClientRequestException) as refused:
        dlf.list_job_instances(ListJobInstancesRequest(workspace=dataarts_demo.INSTANCE))
    assert refused.value.status_code == 401 and refused.value.error_code == "APIG.0301"
    assert "verify aksk signature fail" in refused.value.error_msg


@pytest.mark.parametrize("skew", [timedelta(minutes=16), timedelta(minutes=-16)])
def test_a_signature_dated_more_than_15_minutes_off_is_refused(emulator, skew):
    path = f"/v1/{dataarts_demo.PROJECT_ID}/jobs/instances/detail"

    def answer(at: datetime) -> int:
        host = emulator.base_url.removeprefix("http://")
        sdk_date = at.strftime(HUAWEI_DATE_FORMAT)
        headers = {"Host": host, "X-Sdk-Date": sdk_date}
        canonical = huawei_canonical_request("GET", path, [], headers, ["host", "x-sdk-date"], b"")
        signature = huawei_signature(dataarts_demo.SK, sdk_date, canonical)
        headers["Authorization"] = (
            f"SDK-HMAC-SHA256 Access={dataarts_demo.AK}, "
            f"SignedHeaders=host;x-sdk-date, Signature={signature}"
        )
        return httpx.get(emulator.base_url + path, headers=headers).status_code

    assert answer(datetime.now(UTC)) == 200  # the same request, signed now, passes
    assert answer(datetime.now(UTC) + skew) == 401


def test_poseidon_carries_the_apim_token_and_signature_to_a_flow_search(emulator, capsys):
    """EnOS's poseidon client encrypts its own access token for the real APIM (whose private
    key no emulator has); as a transport it carries the headers APIM documents for other
    callers: the token from the token service, the timestamp and the signature."""
    token = ApimAuth(emulator.base_url, enos_demo.APP_KEY, enos_demo.APP_SECRET).fetch()
    query = {"action": "search", "orgId": enos_demo.ORG_ID, "userId": enos_demo.USER_ID}
    body = {"type": 0, "pagination": {"pageNo": 0, "pageSize": 50}}
    stamp = str(int(time.time() * 1000))
    signature = enos_signature(token, query, json.dumps(body), stamp, enos_demo.APP_SECRET)
    url = f"{emulator.base_url}/batch-processing-service/v2.1/flowInstances?{urlencode(query)}"
    reply = poseidon.urlopen(
        enos_demo.APP_KEY,
        enos_demo.APP_SECRET,
        url,
        body,
        {
            "apim-accesstoken": token,
            "apim-timestamp": stamp,
            "apim-signature": signature,
        },
        method="POST",
    )
    assert reply["code"] == 0 and reply["data"]["flowInsts"] and reply["data"]["count"] > 0
    forged = poseidon.urlopen(
        enos_demo.APP_KEY,
        enos_demo.APP_SECRET,
        url,
        body,
        {
            "apim-accesstoken": token,
            "apim-timestamp": stamp,
            "apim-signature": "0" * 64,
        },
        method="POST",
    )
    # APIM answers a bad signature 401; poseidon prints the HTTP error and returns nothing
    assert forged is None and "HTTP Error 401" in capsys.readouterr().out


def airflow_client(emulator, password: str = airflow_demo.PASSWORD) -> airflow.ApiClient:
    config = airflow.Configuration(
        host=f"{emulator.base_url}/api/v1", username=airflow_demo.USER, password=password
    )
    return airflow.ApiClient(config)


def test_the_airflow_client_reads_runs_tasks_edges_and_a_failed_tasks_log(emulator):
    truth = httpx.get(f"{emulator.base_url}/_emulator/truth/airflow").json()
    failed = next(run for run, status in truth.items() if status == "failed")
    dag_id, run_id = failed.split("/", 1)
    with airflow_client(emulator) as api:
        page = DAGRunApi(api).get_dag_runs("~", limit=100, order_by="-execution_date")
        assert page.total_entries == len(truth)
        assert {f"{r.dag_id}/{r.dag_run_id}" for r in page.dag_runs} <= set(truth)
        run = DAGRunApi(api).get_dag_run(dag_id, run_id)
        assert run.state.value == "failed" and run.end_date is not None
        instances = TaskInstanceApi(api).get_task_instances(dag_id, run_id).task_instances
        states = [ti.state.value if ti.state else None for ti in instances]
        assert "failed" in states
        tasks = DAGApi(api).get_tasks(dag_id).tasks
        assert {t.task_id for t in tasks} == {ti.task_id for ti in instances}
        assert any(t.downstream_task_ids for t in tasks)
        culprit = instances[states.index("failed")]
        log = TaskInstanceApi(api).get_log(dag_id, run_id, culprit.task_id, culprit.try_number)
    assert "ERROR" in log.content and log.content.startswith("[('airflow-worker-0', ")


def test_the_airflow_client_with_a_wrong_password_is_refused(emulator):
    with (
        airflow_client(emulator, password="wrong") as api,
        pytest.raises(airflow.ApiException) as refused,
    ):
        DAGRunApi(api).get_dag_runs("~")
    assert refused.value.status == 401
    assert json.loads(refused.value.body)["title"] == "Unauthorized"


def test_the_dlf_sdk_stops_a_running_instance_and_restarts_a_failed_one(emulator):
    dlf = client(DlfClient, emulator)
    now = emulator.scenario.now()
    runs = emulator.scenario.visible("dataarts_factory")
    running = next(r for r in runs if r.status(now) == "running")
    failed = next(r for r in runs if r.status(now) == "failed")
    for run, request in (
        (running, StopJobInstanceRequest),
        (failed, RestoreJobInstanceRequest),  # the SDK's model sends no body: the default
    ):
        ask = request(job_name=job_name(run.definition_id), instance_id=run.seq)
        call = dlf.stop_job_instance if request is StopJobInstanceRequest else None
        assert (call or dlf.restore_job_instance)(ask).status_code == 204
    now = emulator.scenario.now()
    assert running.status(now) == "canceled" and failed.status(now) == "running"
    with pytest.raises(ClientRequestException) as refused:  # not running any more
        dlf.stop_job_instance(
            StopJobInstanceRequest(
                job_name=job_name(running.definition_id), instance_id=running.seq
            )
        )
    assert refused.value.status_code == 400


def test_the_airflow_client_previews_clears_and_fails_runs(emulator):
    truth = httpx.get(f"{emulator.base_url}/_emulator/truth/airflow").json()
    failed = next(run for run, status in truth.items() if status == "failed")
    running = next(run for run, status in truth.items() if status == "running")
    dag_id, run_id = failed.split("/", 1)
    with airflow_client(emulator) as api:
        body = {"dag_run_id": run_id, "only_failed": True, "reset_dag_runs": True}
        preview = DAGApi(api).post_clear_task_instances(
            dag_id,
            ClearTaskInstances(**body),  # dry_run unsaid: the server's default, true
        )
        assert preview.task_instances and all(
            t.dag_run_id == run_id for t in preview.task_instances
        )
        assert DAGRunApi(api).get_dag_run(dag_id, run_id).state.value == "failed"
        DAGApi(api).post_clear_task_instances(dag_id, ClearTaskInstances(dry_run=False, **body))
        assert DAGRunApi(api).get_dag_run(dag_id, run_id).state.value == "running"
        other_dag, other_run = running.split("/", 1)
        DAGRunApi(api).update_dag_run_state(other_dag, other_run, UpdateDagRunState(state="failed"))
        assert DAGRunApi(api).get_dag_run(other_dag, other_run).state.value == "failed"


def test_the_airflow_client_triggers_marks_and_pauses(emulator):
    truth = httpx.get(f"{emulator.base_url}/_emulator/truth/airflow").json()
    failed = next(run for run, status in truth.items() if status == "failed")
    dag_id, run_id = failed.split("/", 1)
    with airflow_client(emulator) as api:
        started = DAGRunApi(api).post_dag_run(dag_id, DAGRun(dag_run_id="by-hand-1"))
        assert started.dag_run_id == "by-hand-1" and started.run_type == "manual"
        with pytest.raises(airflow.ApiException) as taken:
            DAGRunApi(api).post_dag_run(dag_id, DAGRun(dag_run_id="by-hand-1"))
        assert taken.value.status == 409
        instances = TaskInstanceApi(api).get_task_instances(dag_id, run_id).task_instances
        culprit = next(ti for ti in instances if ti.state and ti.state.value == "failed")
        ask = {"new_state": UpdateTaskState("success")}  # dry_run unsaid: true, by default
        TaskInstanceApi(api).patch_task_instance(
            dag_id, run_id, culprit.task_id, UpdateTaskInstance(**ask)
        )
        again = TaskInstanceApi(api).get_task_instance(dag_id, run_id, culprit.task_id)
        assert again.state.value == "failed"
        TaskInstanceApi(api).patch_task_instance(
            dag_id, run_id, culprit.task_id, UpdateTaskInstance(dry_run=False, **ask)
        )
        marked = TaskInstanceApi(api).get_task_instance(dag_id, run_id, culprit.task_id)
        assert marked.state.value == "success"
        DAGApi(api).patch_dag(dag_id, DAG(is_paused=True), update_mask=["is_paused"])
        assert DAGApi(api).get_dag(dag_id).is_paused is True

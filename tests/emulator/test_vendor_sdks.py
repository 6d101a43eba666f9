"""The vendors' own clients are the judges of the emulator: Huawei's official SDKs
(huaweicloudsdkcore with huaweicloudsdkdlf for DataArts Factory v1 and
huaweicloudsdkdataartsstudio for v2) call it with their default authentication, AK/SK; a wrong
secret key and a stale signature are refused as APIG refuses them. EnOS's poseidon carries
APIM's headers."""

import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkdataartsstudio.v1 import (
    DataArtsStudioClient,
    ListFactoryJobInstancesByNameRequest,
)
from huaweicloudsdkdlf.v1 import DlfClient, ListJobInstancesRequest, ShowJobInstanceRequest
from poseidon import poseidon

from instances.connectors.enos import ApimAuth
from instances.connectors.signing import (
    HUAWEI_DATE_FORMAT,
    enos_signature,
    huawei_canonical_request,
    huawei_signature,
)
from instances.emulator import auth
from instances.emulator.huawei import job_name


def client(kind, emulator, secret_key: str = auth.HUAWEI_SK):
    credentials = BasicCredentials(auth.HUAWEI_AK, secret_key, auth.HUAWEI_PROJECT_ID)
    return kind.new_builder().with_credentials(credentials).with_endpoints(
        [emulator.base_url]).build()  # fmt: skip


def today(emulator) -> list:
    now = emulator.scenario.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [r for r in emulator.scenario.visible("dataarts_factory") if r.planned >= midnight]


def test_the_dlf_sdk_lists_and_reads_job_instances_with_aksk(emulator):
    dlf = client(DlfClient, emulator)
    listed = dlf.list_job_instances(ListJobInstancesRequest(workspace=auth.HUAWEI_INSTANCE))
    expected = today(emulator)
    assert listed.total == len(expected) > 0
    assert {i.job_name for i in listed.instances} == {job_name(r.definition_id) for r in expected}
    # the SDK's models call the id "instancesId", the API reference (which the emulator and the
    # connector follow) "instanceId": the SDK reads it as None, so the id comes from the truth
    run = expected[0]
    detail = dlf.show_job_instance(ShowJobInstanceRequest(
        job_name=job_name(run.definition_id), instance_id=str(run.seq),
        workspace=auth.HUAWEI_INSTANCE))  # fmt: skip
    assert len(detail.nodes) == detail.total == len(run.steps)
    assert {node.node_name for node in detail.nodes} == {step.name for step in run.steps}


def test_the_dataartsstudio_sdk_lists_one_jobs_instances_with_aksk(emulator):
    studio = client(DataArtsStudioClient, emulator)
    wanted = today(emulator)[0]
    name = job_name(wanted.definition_id)
    listed = studio.list_factory_job_instances_by_name(ListFactoryJobInstancesByNameRequest(
        job_name=name, workspace=auth.HUAWEI_INSTANCE, limit=100))  # fmt: skip
    assert listed.total == sum(job_name(r.definition_id) == name for r in today(emulator))
    assert {i.job_name for i in listed.instances} == {name}
    assert wanted.seq in {i.instance_id for i in listed.instances}


def test_a_wrong_secret_key_is_refused(emulator):
    dlf = client(DlfClient, emulator, secret_key="not-the-secret-key")
    with pytest.raises(ClientRequestException) as refused:
        dlf.list_job_instances(ListJobInstancesRequest(workspace=auth.HUAWEI_INSTANCE))
    assert refused.value.status_code == 401 and refused.value.error_code == "APIG.0301"
    assert "verify aksk signature fail" in refused.value.error_msg


@pytest.mark.parametrize("skew", [timedelta(minutes=16), timedelta(minutes=-16)])
def test_a_signature_dated_more_than_15_minutes_off_is_refused(emulator, skew):
    path = f"/v1/{auth.HUAWEI_PROJECT_ID}/jobs/instances/detail"

    def answer(at: datetime) -> int:
        host = emulator.base_url.removeprefix("http://")
        sdk_date = at.strftime(HUAWEI_DATE_FORMAT)
        headers = {"Host": host, "X-Sdk-Date": sdk_date}
        canonical = huawei_canonical_request("GET", path, [], headers, ["host", "x-sdk-date"], b"")
        signature = huawei_signature(auth.HUAWEI_SK, sdk_date, canonical)
        headers["Authorization"] = (f"SDK-HMAC-SHA256 Access={auth.HUAWEI_AK}, "
                                    f"SignedHeaders=host;x-sdk-date, Signature={signature}")  # fmt: skip
        return httpx.get(emulator.base_url + path, headers=headers).status_code

    assert answer(datetime.now(UTC)) == 200  # the same request, signed now, passes
    assert answer(datetime.now(UTC) + skew) == 401


def test_poseidon_carries_the_apim_token_and_signature_to_a_flow_search(emulator, capsys):
    """EnOS's poseidon client encrypts its own access token for the real APIM (whose private
    key no emulator has); as a transport it carries the headers APIM documents for other
    callers: the token from the token service, the timestamp and the signature."""
    token = ApimAuth(emulator.base_url, auth.ENOS_APP_KEY, auth.ENOS_APP_SECRET).fetch()
    query = {"action": "search", "orgId": auth.ENOS_ORG_ID, "userId": auth.ENOS_USER_ID}
    body = {"type": 0, "pagination": {"pageNo": 0, "pageSize": 50}}
    stamp = str(int(time.time() * 1000))
    signature = enos_signature(token, query, json.dumps(body), stamp, auth.ENOS_APP_SECRET)
    url = f"{emulator.base_url}/batch-processing-service/v2.1/flowInstances?{urlencode(query)}"
    reply = poseidon.urlopen(auth.ENOS_APP_KEY, auth.ENOS_APP_SECRET, url, body, {
        "apim-accesstoken": token, "apim-timestamp": stamp, "apim-signature": signature,
    }, method="POST")  # fmt: skip
    assert reply["code"] == 0 and reply["data"]["flowInsts"] and reply["data"]["count"] > 0
    forged = poseidon.urlopen(auth.ENOS_APP_KEY, auth.ENOS_APP_SECRET, url, body, {
        "apim-accesstoken": token, "apim-timestamp": stamp, "apim-signature": "0" * 64,
    }, method="POST")  # fmt: skip
    # APIM answers a bad signature 401; poseidon prints the HTTP error and returns nothing
    assert forged is None and "HTTP Error 401" in capsys.readouterr().out

"""The signers against answers computed elsewhere: Huawei's by its own SDK's Signer
(huaweicloudsdkcore), OCP's string to sign written out by hand from the document."""

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from instances.connectors.base import BackendConfig
from instances.vendors.dataarts_factory.auth import iam_endpoint
from instances.vendors.dataarts_factory.signing import huawei_canonical_request, huawei_signature
from instances.vendors.ocp.signing import ocp_signature, ocp_string_to_sign

AK, SK = "QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"


def test_huawei_signature_matches_the_sdks_own_signer():
    headers = {
        "X-Sdk-Date": "20261201T080000Z",
        "workspace": "a1b2 c3",
        "Content-Type": "application/json",
        "X-Project-Id": "0833a5737480d53b",
    }
    query = [("minPlanTime", "1764547200000"), ("jobName", "etl job/日报"), ("limit", "100")]
    path = "/v1/0833a5737480d53b2f25c010/jobs/instances/detail"
    request = SdkRequest(
        method="GET",
        schema="https",
        host="dayu.cn-north-4.myhuaweicloud.com",
        resource_path=path,
        query_params=list(query),
        header_params=dict(headers),
    )
    signed_by_sdk = Signer(BasicCredentials(AK, SK)).sign(request).header_params["Authorization"]
    ours = {**headers, "Host": "dayu.cn-north-4.myhuaweicloud.com"}
    names = sorted(name.lower() for name in ours)
    canonical = huawei_canonical_request("GET", path, query, ours, names, b"")
    signature = huawei_signature(SK, headers["X-Sdk-Date"], canonical)
    assert signed_by_sdk == (
        f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )


def test_huawei_signature_of_a_body_matches_the_sdk():
    headers = {"X-Sdk-Date": "20261201T080000Z", "Content-Type": "application/json"}
    body = b'{"name": "\xe6\x97\xa5\xe6\x8a\xa5"}'
    request = SdkRequest(
        method="POST",
        schema="https",
        host="example.com",
        resource_path="/v1/p/x",
        query_params=[],
        header_params=dict(headers),
        body=body,
    )
    signed_by_sdk = Signer(BasicCredentials(AK, SK)).sign(request).header_params["Authorization"]
    ours = {**headers, "Host": "example.com"}
    names = sorted(name.lower() for name in ours)
    canonical = huawei_canonical_request("POST", "/v1/p/x", [], ours, names, body)
    assert signed_by_sdk.endswith(
        f"Signature={huawei_signature(SK, headers['X-Sdk-Date'], canonical)}"
    )


def test_ocp_string_to_sign_and_signature_as_the_document_spells_them():
    to_sign = ocp_string_to_sign(
        "get",
        b"",
        "application/json",
        "Tue, 01 Dec 2026 08:00:00 GMT",
        "ocp.example:8080",
        {"X-Ocp-Trace": "t1", "x-ocp-app": "runboard", "Accept": "*/*"},
        "/api/v2/tasks/instances",
        [("status", "FAILED"), ("page", "1"), ("name", "a b/c")],
    )
    assert to_sign == (
        "GET\n\napplication/json\nTue, 01 Dec 2026 08:00:00 GMT\n"
        "ocp.example:8080\nx-ocp-app:runboard\nx-ocp-trace:t1\n"
        "/api/v2/tasks/instances?name=a%20b%2Fc&page=1&status=FAILED"
    )
    with_body = ocp_string_to_sign("POST", b'{"a":1}', "application/json", "d", "h", {}, "/p", [])
    assert with_body.split("\n")[1] == "BB6CB5C68DF4652941CAF652A366F2D8"  # MD5, upper-case hex
    # printf '%s' "$to_sign" | openssl dgst -sha1 -hmac sk -binary | base64
    assert ocp_signature("sk", to_sign) == "cn3dnb7QyiGArwqR3fF+a+amKvo="


def test_the_iam_endpoint_is_the_scopes_else_the_regions_else_the_backends():
    def endpoint(**scope):
        return iam_endpoint(
            BackendConfig(base_url="https://dayu.example", scope=scope, credentials={})
        )

    assert endpoint(iam_url="https://iam.test") == "https://iam.test"
    assert endpoint(region="cn-north-4") == "https://iam.cn-north-4.myhuaweicloud.com"
    assert endpoint() == "https://dayu.example"

"""Demo credentials and the signature checks each vendor gateway performs."""

import base64
import hmac
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from instances.connectors.signing import (
    HUAWEI_DATE_FORMAT,
    enos_signature,
    huawei_canonical_request,
    huawei_signature,
    ocp_signature,
    ocp_string_to_sign,
)

# UUID-shaped, as EnOS issues them (its poseidon client reads the second group as hex)
ENOS_APP_KEY = "7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
ENOS_APP_SECRET = "0f9e8d7c-6b5a-4938-a7b6-c5d4e3f2a1b0"  # noqa: S105 - published demo secret
ENOS_ORG_ID = "o15475503235781"
ENOS_USER_ID = "u15475503235782"
HUAWEI_USER = "runboard-demo"
HUAWEI_PASSWORD = "runboard-demo-pw"  # noqa: S105
HUAWEI_DOMAIN = "runboard-domain"
HUAWEI_PROJECT_ID = "0833a5737480d53b2f25c010dc1a7b88"
HUAWEI_INSTANCE = "a1b2c3d4e5f6"
HUAWEI_AK = "RUNBOARDDEMOAK000001"  # the shape of a Huawei access key: 20 capitals and digits
HUAWEI_SK = "runboardDemoSecretAccessKey0000000000000"
OCP_USER = "admin"
OCP_PASSWORD = "runboard-demo-pw"  # noqa: S105
OCP_ACCESS_KEY_ID = "runboard-demo-ocp-ak"
OCP_ACCESS_KEY_SECRET = "runboard-demo-ocp-sk"  # noqa: S105

DEMO_CREDENTIALS = f"""Demo credentials (fixed):
  EnOS       app_key {ENOS_APP_KEY}  app_secret {ENOS_APP_SECRET}  orgId {ENOS_ORG_ID}  userId {ENOS_USER_ID}
  Huawei     ak {HUAWEI_AK}  sk {HUAWEI_SK}, or username {HUAWEI_USER}  password {HUAWEI_PASSWORD}  domain {HUAWEI_DOMAIN};  project_id {HUAWEI_PROJECT_ID}  instance/workspace {HUAWEI_INSTANCE}
  OCP        Basic {OCP_USER}:{OCP_PASSWORD}  or access key {OCP_ACCESS_KEY_ID} / {OCP_ACCESS_KEY_SECRET}"""


SKEW_AT_MOST = timedelta(minutes=15)  # the gateways' limit on a request's own time


def in_time(at: datetime | None) -> bool:
    """Whether a request's stated time is within SKEW_AT_MOST of the real clock."""
    return at is not None and abs(datetime.now(UTC) - at) <= SKEW_AT_MOST


def enos_request_ok(token: str, headers, query: dict[str, str], body: bytes) -> bool:
    stamp = headers.get("apim-timestamp", "")
    at = (
        datetime.fromtimestamp(int(stamp) / 1000, UTC)
        if stamp.isdigit() and len(stamp) < 16
        else None
    )
    expected = enos_signature(token, query, body.decode(), stamp, ENOS_APP_SECRET)
    return in_time(at) and hmac.compare_digest(expected, headers.get("apim-signature", ""))


def http_date(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


def ocp_request_ok(method: str, headers, path: str, params: list, body: bytes) -> bool:
    authorization = headers.get("authorization", "")
    if authorization.startswith("Basic "):
        basic = base64.b64encode(f"{OCP_USER}:{OCP_PASSWORD}".encode()).decode()
        return hmac.compare_digest(authorization, f"Basic {basic}")
    prefix = f"OCP-ACCESS-KEY-HMACSHA1 {OCP_ACCESS_KEY_ID}:"
    if not authorization.startswith(prefix) or not in_time(http_date(headers.get("date", ""))):
        return False
    to_sign = ocp_string_to_sign(method, body, headers.get("content-type", ""),
                                 headers.get("date", ""), headers.get("host", ""),
                                 dict(headers.items()), path, params)  # fmt: skip
    return hmac.compare_digest(authorization[len(prefix) :],
                               ocp_signature(OCP_ACCESS_KEY_SECRET, to_sign))  # fmt: skip


AKSK = re.compile(
    r"SDK-HMAC-SHA256 Access=([^,\s]+), SignedHeaders=([^,\s]+), Signature=([0-9a-f]+)"
)


def huawei_aksk_ok(method: str, path: str, query: list[tuple[str, str]], headers,
                   body: bytes) -> bool:  # fmt: skip
    """APIG's AK/SK check: our access key, host and X-Sdk-Date signed, the date within 15
    minutes of the real clock, and the signature the secret key gives."""
    found = AKSK.fullmatch(headers.get("authorization", ""))
    if not found or found.group(1) != HUAWEI_AK:
        return False
    signed = found.group(2).split(";")
    sdk_date = headers.get("x-sdk-date", "")
    try:
        at = datetime.strptime(sdk_date, HUAWEI_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return False
    if not {"host", "x-sdk-date"} <= set(signed) or not in_time(at):
        return False
    canonical = huawei_canonical_request(method, path, query, dict(headers.items()), signed, body,
                                         headers.get("x-sdk-content-sha256", ""))  # fmt: skip
    return hmac.compare_digest(huawei_signature(HUAWEI_SK, sdk_date, canonical), found.group(3))

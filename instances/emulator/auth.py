"""Demo credentials and the signature checks each vendor gateway performs."""

import base64
import hashlib
import hmac

from instances.connectors.signing import enos_signature, ocp_string_to_sign

ENOS_APP_KEY = "runboard-demo-ak"
ENOS_APP_SECRET = "runboard-demo-sk"  # noqa: S105 - the emulator's published demo secret
ENOS_ORG_ID = "o15475503235781"
ENOS_USER_ID = "u15475503235782"
HUAWEI_USER = "runboard-demo"
HUAWEI_PASSWORD = "runboard-demo-pw"  # noqa: S105
HUAWEI_DOMAIN = "runboard-domain"
HUAWEI_PROJECT_ID = "0833a5737480d53b2f25c010dc1a7b88"
HUAWEI_INSTANCE = "a1b2c3d4e5f6"
OCP_USER = "admin"
OCP_PASSWORD = "runboard-demo-pw"  # noqa: S105
OCP_ACCESS_KEY_ID = "runboard-demo-ocp-ak"
OCP_ACCESS_KEY_SECRET = "runboard-demo-ocp-sk"  # noqa: S105

DEMO_CREDENTIALS = f"""Demo credentials (fixed):
  EnOS       app_key {ENOS_APP_KEY}  app_secret {ENOS_APP_SECRET}  orgId {ENOS_ORG_ID}  userId {ENOS_USER_ID}
  Huawei     username {HUAWEI_USER}  password {HUAWEI_PASSWORD}  domain {HUAWEI_DOMAIN}  project_id {HUAWEI_PROJECT_ID}  instance/workspace {HUAWEI_INSTANCE}
  OCP        Basic {OCP_USER}:{OCP_PASSWORD}  or access key {OCP_ACCESS_KEY_ID} / {OCP_ACCESS_KEY_SECRET}"""


def enos_request_ok(token: str, headers, query: dict[str, str], body: bytes) -> bool:
    expected = enos_signature(token, query, body.decode(), headers.get("apim-timestamp", ""),
                              ENOS_APP_SECRET)  # fmt: skip
    return hmac.compare_digest(expected, headers.get("apim-signature", ""))


def ocp_request_ok(method: str, headers, path: str, params: list, body: bytes) -> bool:
    authorization = headers.get("authorization", "")
    if authorization.startswith("Basic "):
        basic = base64.b64encode(f"{OCP_USER}:{OCP_PASSWORD}".encode()).decode()
        return hmac.compare_digest(authorization, f"Basic {basic}")
    prefix = f"OCP-ACCESS-KEY-HMACSHA1 {OCP_ACCESS_KEY_ID}:"
    if not authorization.startswith(prefix):
        return False
    to_sign = ocp_string_to_sign(method, body, headers.get("content-type", ""),
                                 headers.get("date", ""), headers.get("host", ""),
                                 dict(headers.items()), path, params)  # fmt: skip
    digest = hmac.new(OCP_ACCESS_KEY_SECRET.encode(), to_sign.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(authorization[len(prefix) :], base64.b64encode(digest).decode())

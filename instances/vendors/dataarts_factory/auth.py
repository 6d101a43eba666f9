"""How a DataArts backend signs in: an IAM password token, or Huawei APIG's AK/SK signature."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from instances.connectors import base
from instances.connectors.http import CachedTokenAuth, VendorHTTP

from .signing import (
    HUAWEI_ALGORITHM,
    HUAWEI_DATE_FORMAT,
    huawei_canonical_request,
    huawei_signature,
)


class IamToken(CachedTokenAuth):
    """A cached IAM password token (24 h)."""

    def __init__(self, iam_url: str, credentials: dict, project_id: str):
        super().__init__()
        self.iam = VendorHTTP(iam_url)
        self.body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": credentials.get("username", ""),
                            "password": credentials.get("password", ""),
                            "domain": {"name": credentials.get("domain_name", "")},
                        }
                    },
                },
                "scope": {"project": {"id": project_id}},
            }
        }

    def fetch(self) -> str:
        response = self.iam.request("POST", "/v3/auth/tokens", json=self.body)
        token = response.headers.get("X-Subject-Token")
        if response.status_code != 201 or not token:
            raise base.AuthError(f"IAM token: HTTP {response.status_code} {response.text[:200]}")
        return token

    def apply(self, request: httpx.Request, token: str) -> None:
        request.headers["X-Auth-Token"] = token


class AkSkSignature(httpx.Auth):
    """Huawei APIG's AK/SK signature (SDK-HMAC-SHA256), signed as huaweicloudsdkcore signs:
    the default for IAM users, who may have no console password for a token."""

    SIGNED = ("content-type", "host", "instance", "workspace", "x-project-id", "x-sdk-date")

    def __init__(self, access_key: str, secret_key: str, project_id: str):
        self.access_key, self.secret_key, self.project = access_key, secret_key, project_id

    def auth_flow(self, request: httpx.Request):
        sdk_date = datetime.now(UTC).strftime(HUAWEI_DATE_FORMAT)
        request.headers["X-Sdk-Date"] = sdk_date
        request.headers["X-Project-Id"] = self.project
        signed = [name for name in self.SIGNED if name in request.headers]
        canonical = huawei_canonical_request(
            request.method,
            request.url.path,
            list(request.url.params.multi_items()),
            dict(request.headers.items()),
            signed,
            request.content,
        )
        signature = huawei_signature(self.secret_key, sdk_date, canonical)
        request.headers["Authorization"] = (
            f"{HUAWEI_ALGORITHM} Access={self.access_key}, "
            f"SignedHeaders={';'.join(signed)}, "
            f"Signature={signature}"
        )
        yield request


def iam_endpoint(config) -> str:
    """The IAM endpoint: the scope's iam_url, else the region's, else the backend's own."""
    scope = config.scope
    if scope.get("iam_url"):
        return scope["iam_url"]
    return (
        f"https://iam.{scope['region']}.myhuaweicloud.com"
        if scope.get("region")
        else config.base_url
    )

"""The EnOS APIM gateway's auth: a cached access token (sha256 'encryption' to get it) and a
signature on every request."""

from __future__ import annotations

import time

import httpx

from instances.connectors.base import AuthError, BadPayload
from instances.connectors.http import CachedTokenAuth, VendorHTTP

from .signing import enos_encryption, enos_signature


class ApimAuth(CachedTokenAuth):
    """APIM: a cached access token (sha256 'encryption' to get it) and a per-request sha256
    signature over token, sorted query, body, timestamp and secret."""

    def __init__(self, base_url: str, app_key: str, app_secret: str):
        super().__init__()
        self.app_key, self.app_secret = app_key, app_secret
        self.token_service = VendorHTTP(base_url)  # its own retries and typed errors

    def fetch(self) -> str:
        stamp = str(int(time.time() * 1000))
        body = {
            "appKey": self.app_key,
            "timestamp": int(stamp),
            "encryption": enos_encryption(self.app_key, stamp, self.app_secret),
        }
        reply = self.token_service.json("POST", "/apim-token-service/v2.0/token/get", json=body)
        try:
            if reply.get("status", reply.get("stauts")) != 0:  # the doc sample misspells it
                raise AuthError(f"APIM token: {reply.get('status')} {reply.get('msg')}")
            return reply["data"]["accessToken"]
        except (AttributeError, KeyError, TypeError) as exc:
            raise BadPayload(f"APIM token reply unreadable: {str(reply)[:200]}") from exc

    def apply(self, request: httpx.Request, token: str) -> None:
        stamp = str(int(time.time() * 1000))
        query = dict(request.url.params.multi_items())
        request.headers["apim-accesstoken"] = token
        request.headers["apim-timestamp"] = stamp
        request.headers["apim-signature"] = enos_signature(
            token, query, request.content.decode(), stamp, self.app_secret
        )

"""Huawei Cloud's gate, emulated, as both DataArts APIs sit behind it: IAM password tokens and
APIG's checks of a request's token or AK/SK signature, then its project."""

import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from instances.emulator.auth import in_time
from instances.emulator.common import json_response, world

from . import demo
from .signing import HUAWEI_DATE_FORMAT, huawei_canonical_request, huawei_signature

TOKEN_LIFETIME = timedelta(hours=24)


def error(status: int, code: str, message: str):
    return json_response({"error_code": code, "error_msg": message}, status)


async def iam_token(request: Request):
    try:
        identity = (await request.json())["auth"]["identity"]["password"]["user"]
        user, password, domain = identity["name"], identity["password"], identity["domain"]["name"]
    except (ValueError, KeyError, TypeError):
        return json_response(
            {"error": {"code": 400, "message": "Request body is invalid.", "title": "Bad Request"}},
            400,
        )
    if (user, password, domain) != (demo.USER, demo.PASSWORD, demo.DOMAIN):
        return json_response(
            {
                "error": {
                    "code": 401,
                    "title": "Unauthorized",
                    "message": "The username or password is wrong.",
                }
            },
            401,
        )
    state = world(request)
    now = state.scenario.now()
    token = f"MII{secrets.token_urlsafe(48)}"
    state.tokens[token] = now + TOKEN_LIFETIME
    body = {
        "token": {
            "expires_at": (now + TOKEN_LIFETIME).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "issued_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "methods": ["password"],
            "project": {
                "id": demo.PROJECT_ID,
                "name": "cn-north-4",
                "domain": {"name": demo.DOMAIN},
            },
            "user": {"name": user, "domain": {"name": domain}},
        }
    }
    return json_response(body, 201, {"X-Subject-Token": token})


AKSK = re.compile(
    r"SDK-HMAC-SHA256 Access=([^,\s]+), SignedHeaders=([^,\s]+), Signature=([0-9a-f]+)"
)


def aksk_ok(method: str, path: str, query: list[tuple[str, str]], headers, body: bytes) -> bool:
    """APIG's AK/SK check: our access key, host and X-Sdk-Date signed, the date within 15
    minutes of the real clock, and the signature the secret key gives."""
    found = AKSK.fullmatch(headers.get("authorization", ""))
    if not found or found.group(1) != demo.AK:
        return False
    signed = found.group(2).split(";")
    sdk_date = headers.get("x-sdk-date", "")
    try:
        at = datetime.strptime(sdk_date, HUAWEI_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return False
    if not {"host", "x-sdk-date"} <= set(signed) or not in_time(at):
        return False
    canonical = huawei_canonical_request(
        method,
        path,
        query,
        dict(headers.items()),
        signed,
        body,
        headers.get("x-sdk-content-sha256", ""),
    )
    return hmac.compare_digest(huawei_signature(demo.SK, sdk_date, canonical), found.group(3))


async def gate(request: Request):
    """APIG's checks: an AK/SK signature or a valid X-Auth-Token, then our project; None when
    the request may pass."""
    token = request.headers.get("x-auth-token")
    state = world(request)
    if request.headers.get("authorization", "").startswith("SDK-HMAC-SHA256 "):
        if not aksk_ok(
            request.method,
            request.url.path,
            request.query_params.multi_items(),
            request.headers,
            await request.body(),
        ):
            return error(
                401,
                "APIG.0301",
                "Incorrect IAM authentication information: verify aksk signature fail",
            )
    elif not token:
        return error(
            401, "APIG.0301", "Incorrect IAM authentication information: x-auth-token not found"
        )
    elif token not in state.tokens:
        return error(
            401, "APIG.0301", "Incorrect IAM authentication information: decrypt token fail"
        )
    elif not state.token_valid(token):
        return error(401, "APIG.0301", "Incorrect IAM authentication information: token expires")
    if request.path_params["project_id"] != demo.PROJECT_ID:
        return error(403, "DLF.6888", "Invalid account permission")
    return None

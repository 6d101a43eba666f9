"""EnOS's APIM gateway, emulated: its token service (seed 000) and its checks of a batch
call's token and signature."""

import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from instances.emulator.auth import in_time
from instances.emulator.common import json_response, world

from . import demo
from .signing import enos_encryption, enos_signature

TOKEN_LIFETIME = timedelta(hours=2)


def token_reply(status: int, msg: str, data=None):
    return json_response(
        {"status": status, "msg": msg, "business": "apim-token-service", "data": data}
    )


async def token(request: Request):
    try:
        body = json.loads(await request.body())
        app_key, encryption, stamp = body["appKey"], body["encryption"], str(body["timestamp"])
    except (ValueError, KeyError, TypeError):
        return token_reply(1004, "Invalid parameter")
    if app_key != demo.APP_KEY:
        return token_reply(1002, "appKey does not exist")
    if encryption != enos_encryption(app_key, stamp, demo.APP_SECRET):
        return token_reply(1003, "encryption invalid")
    state = world(request)
    now = state.scenario.now()
    if request.url.path.endswith("/refresh"):
        state.tokens.pop(body.get("accessToken", ""), None)
    current = next(
        (t for t, exp in state.tokens.items() if t.startswith("apim-") and exp > now), None
    )
    if current is None:  # calling again before expiry returns the same token
        current = f"apim-{secrets.token_hex(16)}"
        state.tokens[current] = now + TOKEN_LIFETIME
    remaining = int((state.tokens[current] - now).total_seconds())
    return token_reply(0, "SUCCESS", {"accessToken": current, "expire": remaining})


def request_ok(token: str, headers, query: dict[str, str], body: bytes) -> bool:
    """APIM's check: apim-timestamp within the allowed skew, apim-signature as computed."""
    stamp = headers.get("apim-timestamp", "")
    at = (
        datetime.fromtimestamp(int(stamp) / 1000, UTC)
        if stamp.isdigit() and len(stamp) < 16
        else None
    )
    expected = enos_signature(token, query, body.decode(), stamp, demo.APP_SECRET)
    return in_time(at) and hmac.compare_digest(expected, headers.get("apim-signature", ""))


def gateway_error(status: int, apim_status: int, msg: str):
    return json_response({"status": status, "apim_status": apim_status, "msg": msg}, status)

"""Fault injection per API (and, optionally, per endpoint), switchable at start and at run
time: latency, error statuses (5xx, 429 with Retry-After), connection resets, truncated,
drifted or oversized bodies."""

import asyncio
import json
import random
import re
from dataclasses import asdict, dataclass

from instances.registry import parts

# (API, the path patterns it answers): fault settings are keyed by API; a path shared by APIs
# (a token service) misbehaves for whichever of them has a fault set
PATHS = [
    (api, re.compile(path)) for api, module in parts("emulator").items() for path in module.PATHS
]


@dataclass
class Fault:
    latency: float = 0.0  # seconds added to every request
    error_rate: float = 0.0  # share of requests answered with `status`
    status: int = 503
    retry_after: int = 1  # sent with 429
    reset_rate: float = 0.0  # share of connections dropped mid-response
    malformed_rate: float = 0.0  # share of bodies cut in half
    drift_rate: float = 0.0  # share of JSON bodies with a field missing, one retyped, one extra
    padding_bytes: int = 0  # every JSON object body grows a field this big (very large pages)
    endpoint: str = ""  # only requests whose "path?query" contains this, e.g. "action=getLog"

    def as_dict(self) -> dict:
        return asdict(self)


def fault_for(faults: dict[str, Fault], path: str) -> Fault | None:
    return next(
        (faults[api] for api, pattern in PATHS if api in faults and pattern.match(path)), None
    )


class FaultMiddleware:
    """ASGI middleware that misbehaves as configured in `faults` (vendor → Fault)."""

    def __init__(self, app, faults: dict[str, Fault], seed: int = 1):
        self.app = app
        self.faults = faults
        self.rng = random.Random(seed)

    async def __call__(self, scope, receive, send):
        fault = fault_for(self.faults, scope.get("path", ""))
        target = f"{scope.get('path', '')}?{scope.get('query_string', b'').decode('latin-1')}"
        if scope["type"] != "http" or fault is None or fault.endpoint not in target:
            return await self.app(scope, receive, send)
        if fault.latency:
            await asyncio.sleep(fault.latency)
        if self.rng.random() < fault.error_rate:
            headers = [(b"content-type", b"application/json")]
            if fault.status == 429:
                headers.append((b"retry-after", str(fault.retry_after).encode()))
            body = b'{"status":%d,"msg":"injected fault"}' % fault.status
            await send({"type": "http.response.start", "status": fault.status, "headers": headers})
            return await send({"type": "http.response.body", "body": body})
        reset = self.rng.random() < fault.reset_rate
        malformed = self.rng.random() < fault.malformed_rate
        drift = self.rng.random() < fault.drift_rate
        if not (reset or malformed or drift or fault.padding_bytes):
            return await self.app(scope, receive, send)

        async def broken_send(message):
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, v) for k, v in message["headers"] if k.lower() != b"content-length"
                ]
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                body = self.drifted(body) if drift else body
                body = padded(body, fault.padding_bytes) if fault.padding_bytes else body
                message = {**message, "body": body[: len(body) // 2] if malformed else body}
                if reset:
                    await send({**message, "more_body": True})
                    raise ConnectionResetError("injected connection reset")
            await send(message)

        return await self.app(scope, receive, broken_send)

    def drifted(self, body: bytes) -> bytes:
        """Schema drift: in the deepest object of the first record, drop one field, turn a
        number into a string and add a field nobody documented."""
        try:
            payload = json.loads(body)
        except ValueError:
            return body
        target = payload
        for _ in range(4):
            inner = (
                [v for v in target.values() if isinstance(v, dict | list)]
                if isinstance(target, dict)
                else ([target[0]] if target and isinstance(target[0], dict | list) else [])
            )
            if not inner:
                break
            target = inner[0]
        if isinstance(target, dict) and target:
            target.pop(self.rng.choice(sorted(target)))
            for key, value in target.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    target[key] = str(value)
                    break
            target["undocumentedField"] = {"drift": True}
        return json.dumps(payload).encode()


def padded(body: bytes, size: int) -> bytes:
    """A JSON object body with one more field of `size` bytes."""
    if not body.rstrip().endswith(b"}"):
        return body
    return body.rstrip()[:-1] + b', "padding": "' + b"x" * size + b'"}'

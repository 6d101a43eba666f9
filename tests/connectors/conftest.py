import json

import httpx
import pytest

from instances.connectors import http
from instances.emulator.samples import VENDORS

# the seed documents' samples, in each vendor's folder, where the emulator serves them from
FIXTURES = VENDORS


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def fixture_json(name: str):
    return json.loads(fixture_text(name))


@pytest.fixture
def vendor_replies():
    """Answer connector requests from recorded payloads: {(path, action or None): body}."""
    replies: dict = {}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/get"):
            token = {"accessToken": "t", "expire": 7200}
            return httpx.Response(200, json={"status": 0, "msg": "SUCCESS", "data": token})
        body = replies[(request.url.path, request.url.params.get("action"))]
        return httpx.Response(200, text=body if isinstance(body, str) else json.dumps(body))

    with http.use_transport(httpx.MockTransport(handler)):
        yield replies

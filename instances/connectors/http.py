"""The one seam for outbound HTTP: every connector's client is built here (timeouts, retries
with backoff and jitter that honour Retry-After, a response size cap, typed errors). Tests
replace the transport with `use_transport`."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from .base import AuthError, BadPayload, ConnectorError, RateLimited, VendorError

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 20 * 1024 * 1024
TIMEOUT = 15.0  # seconds per request
RETRIES = 3
BACKOFF_BASE = 0.5  # seconds; doubled per attempt, with jitter
LONGEST_WAIT = 10.0  # a Retry-After beyond this is the backend's backoff, not ours
_transport: httpx.BaseTransport | None = None


@contextmanager
def use_transport(transport: httpx.BaseTransport) -> Iterator[None]:
    """Route every connector's requests through `transport` (respx, MockTransport)."""
    global _transport
    previous, _transport = _transport, transport
    try:
        yield
    finally:
        _transport = previous


class CachedTokenAuth(httpx.Auth):
    """A token fetched once and shared by all of a connector's requests and threads; fetched
    again (once per request, and once for all threads) when the vendor refuses it, or before
    it expires when `fetch` said when (`renew_within`)."""

    def __init__(self) -> None:
        self.token = ""
        self.renew_at = float("inf")  # time.monotonic() after which the token is fetched anew
        self.lock = threading.Lock()

    def renew_within(self, seconds: float) -> None:
        """Called by `fetch`: the new token lasts `seconds`; renew it a little before."""
        self.renew_at = time.monotonic() + max(seconds - min(60.0, seconds / 4), 0.0)

    def fetch(self) -> str:
        raise NotImplementedError

    def apply(self, request: httpx.Request, token: str) -> None:
        raise NotImplementedError

    def current(self, refused: str = "") -> str:
        with self.lock:
            if not self.token or self.token == refused or time.monotonic() >= self.renew_at:
                self.renew_at = float("inf")
                self.token = self.fetch()
            return self.token

    def auth_flow(self, request: httpx.Request):
        token = self.current()
        self.apply(request, token)
        response = yield request
        if response.status_code == 401:  # expired or revoked
            self.apply(request, self.current(refused=token))
            yield request


class VendorHTTP:
    def __init__(self, base_url: str, auth: httpx.Auth | None = None):
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=auth,
            timeout=TIMEOUT,
            transport=_transport,
            headers={"User-Agent": "Runboard/0.1"},
        )
        self.retries = RETRIES
        self.backoff = BACKOFF_BASE

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._send(method, path, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if last:
                    raise ConnectorError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
                self._sleep(attempt)
                continue
            status = response.status_code
            if status in (401, 403):
                raise AuthError(f"{method} {path}: HTTP {status} {response.text[:300]}")
            if status == 429:
                retry_after = _retry_after(response)
                if last or (retry_after or 0) > LONGEST_WAIT:
                    raise RateLimited(f"{method} {path}: HTTP 429", retry_after)
                self._sleep(attempt, retry_after)
                continue
            if status >= 500:
                if last:
                    raise VendorError(status, f"{method} {path}: {response.text[:300]}")
                self._sleep(attempt)
                continue
            return response
        raise AssertionError("unreachable")

    def once(self, method: str, path: str, **kwargs) -> httpx.Response:
        """One request, never repeated, whatever it answers (an action: only a person retries
        it); a timeout or a broken connection is a ConnectorError."""
        try:
            return self._send(method, path, **kwargs)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise ConnectorError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc

    def json(self, method: str, path: str, **kwargs) -> Any:
        response = self.request(method, path, **kwargs)
        try:
            return json.loads(response.content)
        except ValueError as exc:
            raise BadPayload(f"{method} {path}: body is not JSON ({exc})") from exc

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        with self.client.stream(method, path, **kwargs) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise BadPayload(f"{method} {path}: response over {MAX_RESPONSE_BYTES} bytes")
            response._content = bytes(body)
            return response

    def _sleep(self, attempt: int, retry_after: float | None = None) -> None:
        delay = self.backoff * 2**attempt * random.uniform(0.5, 1.0)
        time.sleep(max(delay, retry_after or 0))

    def close(self) -> None:
        self.client.close()


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None

"""What every connector shares: parallel detail calls and the cached, shared token."""

import threading

import httpx
import pytest

from instances.connectors import base, parallel
from instances.connectors.base import BackendConfig
from instances.connectors.http import CachedTokenAuth
from instances.connectors.paging import ambiguous_offset_pages
from instances.registry import CONNECTORS


def test_in_parallel_keeps_item_order_and_runs_calls_side_by_side(monkeypatch):
    monkeypatch.setattr(parallel, "DETAIL_CONCURRENCY", 4)
    together = threading.Barrier(4, timeout=10)  # breaks unless 4 calls are in flight at once

    def fetch(n):
        together.wait()
        return [f"{n}a", f"{n}b"]

    assert parallel.in_parallel(fetch, range(8)) == [f"{n}{x}" for n in range(8) for x in "ab"]


def test_in_parallel_raises_the_first_error_and_drops_calls_not_started(monkeypatch):
    monkeypatch.setattr(parallel, "DETAIL_CONCURRENCY", 1)
    started = []

    def fetch(n):
        started.append(n)
        if n == 2:
            raise base.VendorError(500, "boom")
        return [n]

    with pytest.raises(base.VendorError):
        parallel.in_parallel(fetch, range(100))
    assert started == [0, 1, 2]


class CountingToken(CachedTokenAuth):
    def __init__(self):
        super().__init__()
        self.fetched = 0

    def fetch(self):
        self.fetched += 1
        return f"token-{self.fetched}"

    def apply(self, request, token):
        request.headers["X-Token"] = token


def vendor(valid: set[str]):
    def answer(request):
        return httpx.Response(200 if request.headers["X-Token"] in valid else 401)

    return httpx.MockTransport(answer)


def test_a_token_is_fetched_once_for_all_threads():
    auth = CountingToken()
    with httpx.Client(auth=auth, transport=vendor({"token-1"})) as client:
        threads = [threading.Thread(target=client.get, args=("http://v/",)) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert auth.fetched == 1


def test_a_refused_token_is_fetched_again_once_and_the_request_retried():
    auth = CountingToken()
    valid = {"token-1"}
    with httpx.Client(auth=auth, transport=vendor(valid)) as client:
        assert client.get("http://v/").status_code == 200
        valid.clear()
        valid.add("token-2")  # the vendor expired the first one
        assert client.get("http://v/").status_code == 200
        assert client.get("http://v/").status_code == 200
        valid.clear()  # the vendor refuses every token: one retry, then the 401 stands
        assert client.get("http://v/").status_code == 401
    assert auth.fetched == 3


@pytest.mark.parametrize(
    ("setting", "used"),
    [(None, 8), ("2", 2), (3, 3), ("500", 32), ("0", 1), ("many", 8), ("-4", 8)],
)
def test_a_backend_may_ask_for_fewer_detail_calls_in_flight(setting, used):
    scope = {} if setting is None else {"detail_concurrency": setting}
    connector = CONNECTORS["ocp"](BackendConfig(base_url="http://vendor", scope=scope))
    assert connector.concurrency == used


@pytest.mark.parametrize("total", [0, 1, 99, 100, 101, 250, 1000])
@pytest.mark.parametrize("counts", ["records", "pages"])
def test_ambiguous_offsets_read_every_record_once_whichever_way_the_server_counts(total, counts):
    records = [{"instanceId": n} for n in range(total)]
    calls = []

    def fetch(offset: int, limit: int):
        calls.append(offset)
        start = offset if counts == "records" else offset * limit
        return records[start : start + limit], total

    read = [item for page in ambiguous_offset_pages(fetch, 100) for item in page]
    assert read == records
    assert len(calls) <= -(-total // 100) + 2  # the pages, one probe, one empty end at most

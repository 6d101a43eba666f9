"""One record never stops a backend: whatever one vendor record holds (a time that is not a
time, a negative count, a NUL in an upstream id, an object for a name, an id the vendor no
longer knows), the rest of the page is stored and the next poll runs. OCP's recorded seed
detail, altered record by record, served at the HTTP boundary."""

import copy
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from instances import sync
from instances.connectors import http
from instances.models import Backend, Instance, Poll, Status, StatusChange
from tests.connectors.conftest import fixture_json
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SEED = fixture_json("ocp/samples/task_detail_seed003.json")["data"]
NOW = datetime.now(UTC).replace(microsecond=0)


def task(task_id: int, **changes) -> dict:
    """The seed task under a new id, recent, its subtasks' ids moved along with it."""
    item = copy.deepcopy(SEED) | {
        "id": task_id,
        "createTime": NOW.isoformat(),
        "startTime": NOW.isoformat(),
    }
    moved = {sub["id"]: sub["id"] + task_id * 100 for sub in item["subtasks"]}
    for sub in item["subtasks"]:
        sub["id"] = moved[sub["id"]]
        sub["upstreams"] = [moved[u] for u in sub["upstreams"]]
        sub["downstreams"] = [moved[d] for d in sub["downstreams"]]
    return item | changes


class Vendor:
    """OCP as recorded: a list page and one detail per task; a task it forgot answers 20000."""

    def __init__(self, tasks: list[dict], forgotten: set[int] = frozenset()):
        self.tasks, self.forgotten = tasks, forgotten

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v2/tasks/instances":
            contents = [{k: v for k, v in t.items() if k != "subtasks"} for t in self.tasks]
            return ok({"contents": contents, "page": {"totalPages": 1, "number": 1}})
        task_id = int(path.rsplit("/", 1)[1])
        if task_id in self.forgotten:
            return httpx.Response(
                404,
                json={"successful": False, "error": {"code": 20000, "message": "Task not exists"}},
            )
        return ok(next(t for t in self.tasks if t["id"] == task_id))


def ok(data) -> httpx.Response:
    return httpx.Response(200, text=json.dumps({"successful": True, "data": data}))


@pytest.fixture
def backend():
    found = Backend(name="OCP", kind="ocp", base_url="http://ocp.invalid")
    found.credentials = {"username": "admin", "password": "pw"}
    found.save()
    return found


def poll(backend, vendor: Vendor) -> Poll:
    with http.use_transport(httpx.MockTransport(vendor)):
        return sync.poll_backend(backend.pk)


def test_bad_records_cost_only_themselves(backend, client):
    odd = task(2)
    odd["subtasks"][0]["runTime"] = -1  # a negative attempt count
    odd["subtasks"][1]["upstreams"].append("13\x0000")  # a NUL inside an upstream id
    odd["subtasks"][2]["name"] = {"zh": "卸载", "en": "Uninstall"}  # an object for a name
    vendor = Vendor([task(1), odd, task(3, finishTime="yesterday-ish"), task(4)], forgotten={4})

    first = poll(backend, vendor)

    assert first.outcome == Poll.Outcome.PARTIAL
    assert first.skipped == 1 and "3: ValueError" in first.error  # the unreadable time
    stored = {r.external_id: r for r in Instance.objects.filter(backend=backend)}
    assert {"1", "2", "4"} <= stored.keys() and "3" not in stored
    assert len([r for r in stored.values() if r.parent_id]) == 2 * len(SEED["subtasks"])
    subtasks = {r.external_id: r for r in stored.values() if r.parent_id == stored["2"].pk}
    first_sub, _, third_sub, _ = (subtasks[str(s["id"])] for s in odd["subtasks"])
    assert first_sub.attempts is None
    assert third_sub.name == '{"zh":"卸载","en":"Uninstall"}'
    assert stored["2"].edges.count() == stored["1"].edges.count()  # the NUL edge dropped
    assert stored["4"].gone_at is not None  # deleted on the vendor between list and detail
    assert Backend.objects.get(pk=backend.pk).consecutive_failures == 0
    client.force_login(UserFactory(is_superuser=True))
    health = client.get("/backends/").content.decode()
    assert "The last poll skipped 1 unreadable record: <bdi>3: ValueError: Invalid isoformat" in (
        health
    )
    assert (
        "The vendor no longer knows this run"
        in client.get(f"/runs/{stored['4'].pk}/").content.decode()
    )

    vendor.tasks = [task(1), odd, task(3)]  # the bad time fixed, the forgotten task listed no more
    second = poll(backend, vendor)
    assert second.outcome == Poll.Outcome.OK
    assert Instance.objects.filter(backend=backend, external_id="3").exists()
    assert Instance.objects.filter(backend=backend).count() == len(stored) + 1 + len(
        SEED["subtasks"]
    )  # nothing twice


def test_a_run_deleted_on_the_vendor_is_marked_gone_and_not_asked_about_again(backend):
    running = task(7, status="RUNNING", finishTime=None)
    vendor = Vendor([running])
    assert poll(backend, vendor).outcome == Poll.Outcome.OK
    # the vendor forgets it while it still runs: the list no longer has it, its detail is 20000
    vendor.tasks, vendor.forgotten = [], {7}
    assert poll(backend, vendor).outcome == Poll.Outcome.OK
    gone = Instance.objects.get(backend=backend, external_id="7")
    assert gone.gone_at is not None and gone.status == Status.RUNNING  # last known state kept
    asked: list[str] = []

    def counting(request):
        asked.append(request.url.path)
        return vendor(request)

    with http.use_transport(httpx.MockTransport(counting)):
        assert sync.poll_backend(backend.pk).outcome == Poll.Outcome.OK
    assert asked == ["/api/v2/tasks/instances"]  # the list only
    # the vendor knows it again (restored): it is read, and no longer gone
    vendor.tasks, vendor.forgotten = [task(7, status="SUCCESSFUL")], set()
    assert poll(backend, vendor).outcome == Poll.Outcome.OK
    back = Instance.objects.get(backend=backend, external_id="7")
    assert back.gone_at is None and back.status == Status.SUCCEEDED


def test_a_status_that_drifts_away_writes_no_transition(backend):
    vendor = Vendor([task(5)])
    poll(backend, vendor)
    changes = StatusChange.objects.count()
    drifted = task(5, startTime=(NOW + timedelta(seconds=1)).isoformat())
    del drifted["status"]  # schema drift: the field is gone for a while
    vendor.tasks = [drifted]
    assert poll(backend, vendor).outcome == Poll.Outcome.OK
    assert Instance.objects.get(backend=backend, external_id="5").status == Status.SUCCEEDED
    vendor.tasks = [task(5)]
    poll(backend, vendor)
    assert StatusChange.objects.count() == changes  # SUCCEEDED throughout


def test_an_unreadable_record_whose_id_holds_a_nul_costs_only_itself(backend):
    bad = task(3, finishTime="yesterday-ish") | {"id": "3\x00"}  # its skip reason quotes it

    first = poll(backend, Vendor([task(1), bad]))

    assert first.outcome == Poll.Outcome.PARTIAL and first.skipped == 1
    assert "3\ufffd: ValueError" in first.error
    assert Instance.objects.filter(backend=backend, external_id="1").exists()


def test_a_vendor_error_holding_a_nul_is_kept_as_the_polls_error(backend):
    def refusing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="db\x00down")  # a proxy's page, as it came

    failed = poll(backend, refusing)

    assert failed.outcome == Poll.Outcome.ERROR and "db\ufffddown" in failed.error
    assert Backend.objects.get(pk=backend.pk).consecutive_failures == 1

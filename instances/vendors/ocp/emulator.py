"""OceanBase Cloud Platform task API (/api/v2/tasks/…): seed 003 and vendor-apis.md §3."""

import base64
import hmac
import json
import uuid
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.routing import Route

from instances.emulator import scenario as sc
from instances.emulator.auth import in_time
from instances.emulator.common import by_seq, iso_offset, json_response, patched, world
from instances.emulator.failures import failure
from instances.emulator.samples import sample_text

from . import demo
from .signing import ocp_signature, ocp_string_to_sign

VENDOR = "ocp"
TASK_STATUS = {
    sc.PENDING: "RUNNING",
    sc.RUNNING: "RUNNING",
    sc.SUCCEEDED: "SUCCESSFUL",
    sc.SKIPPED: "SUCCESSFUL",
    sc.FAILED: "FAILED",
    sc.TIMEOUT: "FAILED",
    sc.CANCELED: "FAILED",
}
# Subtask (status, operation): a skipped subtask is SUCCESSFUL/SKIP, a canceled one FAILED/CANCEL.
SUBTASK = {
    sc.PENDING: ("PENDING", "EXECUTE"),
    sc.RUNNING: ("RUNNING", "EXECUTE"),
    sc.SUCCEEDED: ("SUCCESSFUL", "EXECUTE"),
    sc.SKIPPED: ("SUCCESSFUL", "SKIP"),
    sc.FAILED: ("FAILED", "EXECUTE"),
    sc.TIMEOUT: ("FAILED", "EXECUTE"),
    sc.CANCELED: ("FAILED", "CANCEL"),
}


def envelope(request: Request, data, status: int = 200) -> dict:
    return {
        "data": data,
        "duration": 3,
        "server": "10.0.0.8",
        "status": status,
        "successful": True,
        "timestamp": iso_offset(world(request).scenario.now()),
        "traceId": uuid.uuid4().hex[:16],
    }


def error(request: Request, status: int, code: int, message: str):
    body = {
        "successful": False,
        "status": status,
        "duration": 1,
        "server": "10.0.0.8",
        "timestamp": iso_offset(world(request).scenario.now()),
        "traceId": uuid.uuid4().hex[:16],
        "error": {
            "code": code,
            "message": message,
            "debugMessage": None,
            "target": None,
            "subErrors": [],
        },
    }
    return json_response(body, status)


async def authorized(request: Request) -> bool:
    """Basic auth, or an access-key signature whose Date is within the allowed skew."""
    authorization, headers = request.headers.get("authorization", ""), request.headers
    if authorization.startswith("Basic "):
        basic = base64.b64encode(f"{demo.USER}:{demo.PASSWORD}".encode()).decode()
        return hmac.compare_digest(authorization, f"Basic {basic}")
    prefix = f"OCP-ACCESS-KEY-HMACSHA1 {demo.ACCESS_KEY_ID}:"
    if not authorization.startswith(prefix) or not in_time(http_date(headers.get("date", ""))):
        return False
    params = parse_qsl(request.url.query, keep_blank_values=True)
    to_sign = ocp_string_to_sign(
        request.method,
        await request.body(),
        headers.get("content-type", ""),
        headers.get("date", ""),
        headers.get("host", ""),
        dict(headers.items()),
        request.url.path,
        params,
    )
    return hmac.compare_digest(
        authorization[len(prefix) :], ocp_signature(demo.ACCESS_KEY_SECRET, to_sign)
    )


def http_date(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


def task(run: sc.Run, now, detail: bool) -> dict:
    if run.sample:
        return run.sample if detail else {k: v for k, v in run.sample.items() if k != "subtasks"}
    status = run.status(now)
    record: dict[str, Any] = {
        "createTime": iso_offset(run.planned),
        "creator": {"id": 100, "name": run.owner},
        "executor": "10.0.0.21",
        "finishTime": iso_offset(run.finished_at(now)),
        "id": run.seq,
        "name": run.definition_name,
        "operation": "EXECUTE",
        "prohibitRollback": False,
        "startTime": iso_offset(run.start if status != sc.PENDING else None),
        "status": TASK_STATUS[status],
        "taskDefinitionId": int(run.definition_id),
        "type": "SCHEDULED",
        "cluster": {"id": 1, "name": "obcluster-prod", "obClusterId": 1, "type": "PRIMARY"},
        "tenant": {"id": 1002, "name": "sales", "obTenantId": 1002, "mode": "MYSQL"},
    }
    if detail:
        downstream: dict[str, list[int]] = {step.id: [] for step in run.steps}
        for step in run.steps:
            for up in step.upstream:
                downstream[up].append(int(step.id))
        record["subtasks"] = [
            patched(subtask(run, step, now, downstream[step.id]), run, n)
            for n, step in enumerate(run.steps)
        ]
    return patched(record, run)


def subtask(run: sc.Run, step: sc.Step, now, downstreams: list[int]) -> dict:
    status, operation = SUBTASK[step.status(now, run)]
    return {
        "createTime": iso_offset(run.planned),
        "description": step.name,
        "downstreams": downstreams,
        "executor": "10.0.0.21",
        "finishTime": iso_offset(step.end if status in ("SUCCESSFUL", "FAILED") else None),
        "id": int(step.id),
        "name": step.name,
        "nodeType": "JAVA_TASK",
        "operation": operation,
        "parallelIdx": -1,
        "prohibitRollback": False,
        "runTime": step.tries(now, run),
        "seriesId": int(step.id) % 1000,
        "timeout": 1800,
        "startTime": iso_offset(step.start if status != "PENDING" else None),
        "status": status,
        "upstreams": [int(up) for up in step.upstream],
    }


async def list_tasks(request: Request):
    if not await authorized(request):
        return error(request, 401, 30000, "User not authenticated")
    query = request.query_params
    try:
        page, size = int(query.get("page", 1)), int(query.get("size", 10))
    except ValueError:
        return error(request, 400, 10001, "Illegal argument: page and size must be integers")
    if page < 1 or not 1 <= size <= 2000:
        return error(request, 400, 10001, "Illegal argument: page ≥ 1, 1 ≤ size ≤ 2000")
    scenario = world(request).scenario
    now = scenario.now()
    tasks = [task(run, now, detail=False) for run in scenario.visible(VENDOR)]
    if statuses := {s for s in query.get("status", "").split(",") if s}:
        tasks = [t for t in tasks if t["status"] in statuses]
    if name := query.get("name"):
        tasks = [t for t in tasks if name.lower() in t["name"].lower()]
    if kind := query.get("type"):
        tasks = [t for t in tasks if t["type"] == kind]
    tasks.sort(key=lambda t: t["id"], reverse=query.get("sort", "id,desc") != "id,asc")
    total = len(tasks)
    data = {
        "contents": tasks[(page - 1) * size : page * size],
        "page": {
            "totalElements": total,
            "totalPages": -(-total // size),
            "number": page,
            "size": size,
        },
    }
    return json_response(envelope(request, data))


def find(request: Request) -> sc.Run | None:
    wanted = request.path_params["task_id"]
    return world(request).scenario.find_seq(VENDOR, int(wanted)) if wanted.isdigit() else None


async def get_task(request: Request):
    if not await authorized(request):
        return error(request, 401, 30000, "User not authenticated")
    if (run := find(request)) is None:
        return error(request, 404, 20000, "Task not exists")
    return json_response(envelope(request, task(run, world(request).scenario.now(), True)))


async def subtask_log(request: Request):
    if not await authorized(request):
        return error(request, 401, 30000, "User not authenticated")
    run = find(request)
    wanted = request.path_params["sub_id"]
    step = next((s for s in run.steps if s.id == wanted), None) if run else None
    if run is None or step is None:
        return error(request, 404, 10002, "Subtask instance not found")
    now = world(request).scenario.now()
    lines = [f"{iso_offset(step.start)} INFO start subtask {step.name}"]
    lines += [f"{iso_offset(step.start)} INFO step {n} of {step.name} ok" for n in range(40)]
    if step.status(now, run) in (sc.FAILED, sc.TIMEOUT):
        lines += [f"{iso_offset(step.end)} {line}" for line in failure(run, step).log]
    return json_response(envelope(request, {"log": "\n".join(lines)}))


def add_samples(scenario: sc.Scenario) -> None:
    """The seed document's task joins the scenario as a run (listed, with its subtasks' logs).
    Idempotent: apps built on one scenario (one per port) share its samples."""
    detail = json.loads(sample_text("ocp", "task_detail_seed003.json"))["data"]
    if f"sample-{detail['id']}" in scenario.runs[VENDOR]:
        return
    created = datetime.fromisoformat(detail["createTime"])
    steps = [
        sc.Step(
            id=str(s["id"]),
            name=s["name"],
            upstream=[str(u) for u in s["upstreams"]],
            start=datetime.fromisoformat(s["startTime"]),
            end=datetime.fromisoformat(s["finishTime"]),
            outcome=sc.SUCCEEDED,
        )
        for s in detail["subtasks"]
    ]
    scenario.add(
        sc.Run(
            vendor=VENDOR,
            id=f"sample-{detail['id']}",
            definition_id=str(detail["taskDefinitionId"]),
            definition_name=detail["name"],
            planned=created,
            steps=steps,
            owner="admin",
            seq=detail["id"],
            sample=detail,
        )
    )


PATHS = ("/api/v2/",)
runs_by_id = by_seq
routes = [
    Route("/api/v2/tasks/instances", list_tasks),
    Route("/api/v2/tasks/instances/{task_id}", get_task),
    Route("/api/v2/tasks/instances/{task_id}/subtasks/{sub_id}/log", subtask_log),
]

"""What the emulated OCP's handlers share: the envelope and its errors, signing in, and the
task and subtask records rendered from the scenario."""

import base64
import hmac
import uuid
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from instances.emulator import scenario as sc
from instances.emulator.auth import in_time
from instances.emulator.common import iso_offset, json_response, patched, world

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


def basic(user: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{demo.PASSWORD}".encode()).decode()


async def authorized(request: Request) -> bool:
    """Basic auth (the admin, or a TASK_VIEWER), or an access-key signature whose Date is
    within the allowed skew."""
    authorization, headers = request.headers.get("authorization", ""), request.headers
    if authorization.startswith("Basic "):
        return any(hmac.compare_digest(authorization, basic(u)) for u in (demo.USER, demo.VIEWER))
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


def find(request: Request) -> sc.Run | None:
    wanted = request.path_params["task_id"]
    return world(request).scenario.find_seq(VENDOR, int(wanted)) if wanted.isdigit() else None

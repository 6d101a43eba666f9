"""Huawei DataArts Catalog / Data Map "Output Information" of job operators (seed 002,
vendor-apis.md §2.4), behind the IAM and APIG checks Factory's emulator makes."""

import json
import secrets
from functools import cache

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from instances.emulator import scenario as sc
from instances.emulator.common import RunsById, epoch_ms, json_response, utc, world
from instances.emulator.samples import sample_text
from instances.vendors.dataarts_factory import demo
from instances.vendors.dataarts_factory.emulator import paging
from instances.vendors.dataarts_factory.emulator_gate import error, gate, iam_token
from instances.vendors.dataarts_factory.emulator_records import JOB_STATUS, job_name

DATAMAP = "dataarts_datamap"


def operator_id(definition_id: str, index: int) -> str:
    return f"{definition_id}{index:03d}"


def operators(scenario: sc.Scenario) -> list[dict]:
    return [
        {"task_id": operator_id(d.id, n), "job_name": job_name(d.id), "workspace_id": demo.INSTANCE}
        for d in scenario.definitions
        if d.vendor == DATAMAP
        for n in range(d.steps)
    ]


async def datamap_gate(request: Request):
    """Authentication first (a bad token is 401 whatever the instance header says), then
    the instance."""
    if denied := await gate(request):
        return denied
    if request.headers.get("instance") != demo.INSTANCE:
        return error(400, "DLG.0818", "The instance header is missing or unknown.")
    return None


async def show_nodes(request: Request):
    if denied := await datamap_gate(request):
        return denied
    return json_response(operators(world(request).scenario))


def operator_row(run: sc.Run, index: int, now) -> dict:
    step = run.steps[index]
    status = step.status(now, run)
    done = status not in (sc.PENDING, sc.RUNNING)
    running_data = {
        "obsDataPath": f"obs://dlf-log-{demo.PROJECT_ID}/{run.seq}/",
        "jobId": f"{run.seq}",
        "dliCurrentStep": "1",
        "firstTimeEtlSqlList": f"INSERT INTO TABLE dws.{step.name.split()[0]} "
        f"SELECT * FROM ods.src_{step.id};",
        "type": "DLI",
    }
    return {
        "endTime": epoch_ms(step.end if done else None),
        "executionLogPath": f"obs://dlf-log-{demo.PROJECT_ID}/{run.seq}/{step.id}.job",
        "failCount": -1,
        "forceSuccess": 0,
        "inputRowCount": -1,
        "jobId": int(run.definition_id),
        "jobName": job_name(run.definition_id),
        "outputRowCount": -1,
        "owner": run.owner,
        "planTime": epoch_ms(run.planned),
        "retryTimes": step.attempts - 1,
        "runningData": json.dumps(running_data),
        "runningParam": json.dumps(
            {"total": 1, "rows": [{"name": "running parameter", "value": "ETLJobRunner"}]}
        ),
        "runningTime": 0 if not done else int((step.end - step.start).total_seconds() * 1000),
        "speed": 0.0,
        "startTime": epoch_ms(step.start if status != sc.PENDING else None),
        "status": JOB_STATUS[status],
        "submitTime": epoch_ms(run.planned),
        "taskId": int(operator_id(run.definition_id, index)),
        "taskName": step.name,
        "taskRunningLogId": int(step.id),
        "type": "ETLJob",
        "workspaceId": demo.INSTANCE,
        "workspaceName": "runboard-demo",
    }


DATAMAP_OUTPUT = "operator_instances_seed002.json"


@cache
def datamap_sample() -> tuple[str, str]:
    """(the documented operator's task id, the document's whole reply)."""
    reply = sample_text(DATAMAP, DATAMAP_OUTPUT)
    row = json.loads(json.loads(reply)["body"])["rows"][0]
    return str(row["taskId"]), reply


async def operator_instances(request: Request):
    if denied := await datamap_gate(request):
        return denied
    scenario, query = world(request).scenario, request.query_params
    task_id = request.path_params["task_id"]
    seed_task, seed_reply = datamap_sample()
    if task_id == seed_task:  # the document's operator: its own reply, as printed
        return Response(seed_reply, media_type="application/json")
    try:
        low, high = utc(float(query["start_time"])), utc(float(query["end_time"]))
    except (KeyError, ValueError):
        return error(400, "DLG.0001", "start_time and end_time (epoch ms) are required")
    if not query.get("job_name") or (page := paging(query)) is None:
        return error(400, "DLG.0001", "job_name, offset and limit are required")
    limit, offset = page
    now = scenario.now()
    runs = [
        run
        for run in scenario.visible(DATAMAP)
        if low <= run.planned <= high and job_name(run.definition_id) == query["job_name"]
    ]
    rows = [
        operator_row(run, n, now)
        for run in runs
        for n in range(len(run.steps))
        if operator_id(run.definition_id, n) == task_id
    ]
    body = {
        "msg": "success",
        "rows": rows[offset : offset + limit],
        "success": True,
        "total": len(rows),
    }
    # The API proxies its backend: the real answer is a JSON string inside an envelope.
    return json_response(
        {
            "status_code": 200,
            "body": json.dumps(body, indent="\t"),
            "header_map": {
                "Content-Type": "application/json;charset=UTF-8",
                "X-Request-Id": secrets.token_hex(16),
            },
        }
    )


PATHS = (r"/v3/auth/tokens", r"/v1/[^/]+/datamap/")


def runs_by_id(scenario: sc.Scenario, api: str) -> RunsById:
    """Data Map lists operator runs: one per step of a watched job's run."""
    return {step.id: (run, step) for run in scenario.visible(api) for step in run.steps}


routes = [
    Route("/v3/auth/tokens", iam_token, methods=["POST"]),
    Route("/v1/{project_id}/datamap/table/{guid}/node", show_nodes),
    Route("/v1/{project_id}/datamap/node/{task_id}/instances", operator_instances),
]

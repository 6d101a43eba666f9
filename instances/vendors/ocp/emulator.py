"""OceanBase Cloud Platform task API (/api/v2/tasks/…): seed 003 and vendor-apis.md §3, and
the task actions of §5.2."""

import json
from datetime import datetime

from starlette.requests import Request
from starlette.routing import Route

from instances.emulator import scenario as sc
from instances.emulator.common import by_seq, iso_offset, json_response, world
from instances.emulator.failures import failure
from instances.emulator.samples import sample_text

from .emulator_actions import action_routes
from .emulator_tasks import VENDOR, authorized, envelope, error, find, task


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
    *action_routes,
    Route("/api/v2/tasks/instances", list_tasks),
    Route("/api/v2/tasks/instances/{task_id}", get_task),
    Route("/api/v2/tasks/instances/{task_id}/subtasks/{sub_id}/log", subtask_log),
]

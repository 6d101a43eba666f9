"""OCP's task actions (vendor-apis.md §5.2), over the emulated runs: retry or roll back a task,
retry, skip or cancel a subtask. Each needs TASK_MANAGER, which the demo's TASK_VIEWER lacks;
a task whose prohibitRollback is set refuses rollback."""

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from instances.emulator import scenario as sc
from instances.emulator.common import json_response, world

from . import demo
from . import emulator_tasks as ocp

FAILED = (sc.FAILED, sc.TIMEOUT)


async def acting(request: Request) -> tuple[sc.Run, sc.Step | None] | Response:
    """The task (and subtask) a call names, once the caller may act on it."""
    if not await ocp.authorized(request):
        return ocp.error(request, 401, 30000, "User not authenticated")
    if request.headers.get("authorization") == ocp.basic(demo.VIEWER):
        return ocp.error(request, 403, 30001, "Access denied: TASK_MANAGER permission required")
    if (run := ocp.find(request)) is None:
        return ocp.error(request, 404, 20000, "Task not exists")
    if (wanted := request.path_params.get("sub_id")) is None:
        return run, None
    step = next((s for s in run.steps if s.id == wanted), None)
    if step is None:
        return ocp.error(request, 404, 10002, "Subtask instance not found")
    return run, step


def answered(request: Request, data=None) -> Response:
    return json_response(ocp.envelope(request, data))


async def retry_task(request: Request, run: sc.Run, step: sc.Step | None, now) -> Response:
    if run.status(now) not in FAILED:
        return ocp.error(request, 400, 20003, "Only a failed task can be retried")
    run.retry(now, world(request).scenario.rerun_for)  # its failed subtasks, same task id
    return answered(request, ocp.task(run, now, detail=True))


async def rollback_task(request: Request, run: sc.Run, step: sc.Step | None, now) -> Response:
    if ocp.task(run, now, detail=False).get("prohibitRollback"):
        return ocp.error(request, 400, 20004, "task prohibit rollback")
    if run.status(now) not in FAILED:
        return ocp.error(request, 400, 20003, "Only a failed task can be rolled back")
    run.patch = {**run.patch, "record": {"status": "SUCCESSFUL", "operation": "ROLLBACK"}}
    return answered(request, ocp.task(run, now, detail=True))


async def retry_subtask(request: Request, run: sc.Run, step: sc.Step | None, now) -> Response:
    assert step is not None
    if step.status(now, run) not in FAILED:
        return ocp.error(request, 400, 20005, "Only a failed subtask can be retried")
    run.retry(now, world(request).scenario.rerun_for)
    return answered(request, ocp.subtask(run, step, now, []))


async def skip_subtask(request: Request, run: sc.Run, step: sc.Step | None, now) -> Response:
    """Marked successful (operation SKIP); the task runs on."""
    assert step is not None
    if step.status(now, run) not in FAILED:
        return ocp.error(request, 400, 20005, "Only a failed subtask can be skipped")
    index = str(run.steps.index(step))
    steps = {**run.patch.get("steps", {}), index: {"status": "SUCCESSFUL", "operation": "SKIP"}}
    run.patch = {**run.patch, "steps": steps}
    run.retry(now, world(request).scenario.rerun_for)
    return answered(request)


async def cancel_subtask(request: Request, run: sc.Run, step: sc.Step | None, now) -> Response:
    """RUNNING → CANCELING → FAILED with operation CANCEL."""
    assert step is not None
    if step.status(now, run) != sc.RUNNING:
        return ocp.error(request, 400, 20005, "Only a running subtask can be canceled")
    run.stop(now, sc.CANCELED)
    return answered(request)


Action = Callable[[Request, sc.Run, sc.Step | None, object], Awaitable[Response]]


def route(path: str, action: Action) -> Route:
    async def endpoint(request: Request) -> Response:
        if isinstance(found := await acting(request), Response):
            return found
        return await action(request, *found, world(request).scenario.now())

    return Route(f"/api/v2/tasks/instances/{{task_id}}{path}", endpoint, methods=["POST"])


action_routes = [
    route("/retry", retry_task),
    route("/rollback", rollback_task),
    route("/subtasks/{sub_id}/retry", retry_subtask),
    route("/subtasks/{sub_id}/skip", skip_subtask),
    route("/subtasks/{sub_id}/cancel", cancel_subtask),
]

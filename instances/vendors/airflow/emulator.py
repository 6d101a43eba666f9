"""Apache Airflow's REST API, both majors over the same runs: Airflow 2 at the root (/api/v1,
Basic auth, connexion's problem documents, logs as text), Airflow 3 under /airflow3 (/api/v2,
JWTs from POST /auth/token, FastAPI's errors and 422s, logs as structured JSON; /api/v1
answers 404 as Airflow 3 does). DAGs, DAG runs, their task instances, the DAG's tasks (for
the edges) and task logs."""

import re
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from instances.emulator import scenario as sc
from instances.emulator.common import RunsById, json_response, world

from .emulator_actions import clear_task_instances, pause, set_run_state, set_task_state, trigger
from .emulator_logs import log_messages, log_text
from .emulator_majors import AIRFLOW3_PATH, AIRFLOW_2, AIRFLOW_3, Major, endpoint, issue_token
from .emulator_records import (
    RUN_STATE,
    dag_id,
    run_id,
    task,
    task_id,
    updated_at,
)

API = "airflow"
MAX_LIMIT = 100  # [api] maximum_page_limit
# dagRuns' order_by, as Airflow allows it (a leading "-" reverses)
RUN_ORDER = {
    "id": lambda r: r.seq,
    "execution_date": lambda r: r.planned,
    "start_date": lambda r: r.start,
    "end_date": lambda r: r.end,
    "dag_run_id": lambda r: run_id(r),
    "updated_at": lambda r: r.seq,
}


async def version(request: Request, major: Major):
    return json_response({"version": major.version, "git_version": ".release:emulated"})


async def v1_removed(request: Request):
    detail = (
        "/api/v1 has been removed in Airflow 3, please use its upgraded version /api/v2 instead."
    )
    return json_response({"error": detail}, 404)


def page(request: Request, major: Major) -> tuple[int, int] | Response:
    values = []
    for name, default in (("limit", MAX_LIMIT), ("offset", 0)):
        text = request.query_params.get(name, str(default))
        try:
            value = int(text)
        except ValueError:
            return major.invalid(name, text, "Input should be a valid integer")
        if value < 0:
            return major.invalid(name, text, "Input should be greater than or equal to 0")
        values.append(value)
    limit, offset = values
    return min(limit, MAX_LIMIT), offset


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace(" ", "+"))  # "+" unescaped in a query is " "
    except ValueError:
        return None


async def list_dag_runs(request: Request, major: Major):
    if request.method == "POST":
        return await trigger(request, major)
    if isinstance(paged := page(request, major), Response):
        return paged
    limit, offset = paged
    scenario, query = world(request).scenario, request.query_params
    now = scenario.now()
    wanted = request.path_params["dag_id"]
    runs = [r for r in scenario.visible(API) if wanted in ("~", dag_id(r))]
    bounds = {
        "execution_date": lambda r: r.planned,
        "logical_date": lambda r: r.planned,
        "run_after": lambda r: r.planned,
        "updated_at": lambda r: updated_at(r, now),
        "start_date": lambda r: r.start if r.status(now) != sc.PENDING else None,
        "end_date": lambda r: r.finished_at(now),
    }
    for field, value_of in bounds.items():
        for suffix, keep in (("_gte", lambda v, b: v >= b), ("_lte", lambda v, b: v <= b)):
            if (text := query.get(field + suffix)) is None:
                continue
            if (bound := parse_time(text)) is None or bound.tzinfo is None:
                return major.invalid(
                    field + suffix, text, "not a timezone-aware ISO 8601 date-time"
                )
            runs = [r for r in runs if (v := value_of(r)) is not None and keep(v, bound)]
    if states := query.getlist("state"):
        runs = [r for r in runs if RUN_STATE[r.status(now)] in states]
    order = query.get("order_by", "id")
    if order.lstrip("-") not in RUN_ORDER:
        detail = (
            f"Ordering with '{order}' is disallowed or the attribute does not exist on the model"
        )
        return major.refuse(400, detail.replace(f"'{order}'", "'order_by'"), detail)
    runs.sort(key=RUN_ORDER[order.lstrip("-")], reverse=order.startswith("-"))
    shown = [major.dag_run(r, now) for r in runs[offset : offset + limit]]
    return json_response(major.listed({"dag_runs": shown, "total_entries": len(runs)}))


def find(request: Request) -> sc.Run | None:
    wanted_dag, wanted_run = request.path_params["dag_id"], request.path_params["dag_run_id"]
    scenario = world(request).scenario
    return next(
        (r for r in scenario.visible(API) if dag_id(r) == wanted_dag and run_id(r) == wanted_run),
        None,
    )


def run_not_found(request: Request, major: Major) -> Response:
    wanted = request.path_params
    return major.refuse(
        404,
        "DAGRun not found",
        f"DAGRun with DAG ID: '{wanted['dag_id']}' and DagRun ID: '{wanted['dag_run_id']}' "
        "not found",
    )


async def get_dag_run(request: Request, major: Major):
    if (run := find(request)) is None:
        return run_not_found(request, major)
    if request.method == "PATCH":
        return await set_run_state(request, major, run)
    return json_response(major.dag_run(run, world(request).scenario.now()))


async def task_instances(request: Request, major: Major):
    if isinstance(paged := page(request, major), Response):
        return paged
    limit, offset = paged
    if (run := find(request)) is None:
        return run_not_found(request, major)
    now = world(request).scenario.now()
    found = [major.task_instance(run, n, s, now) for n, s in enumerate(run.steps)]
    return json_response(
        major.listed(
            {"task_instances": found[offset : offset + limit], "total_entries": len(found)}
        )
    )


async def task_tries(request: Request, major: Major):
    """Every try of one task instance, the earlier ones failed (Airflow 2.10+: the task
    instance history, and the current try)."""
    run = find(request)
    found = TASK_ID.fullmatch(request.path_params["task_id"])
    n = int(found.group(1)) if found else -1
    if run is None or not 0 <= n < len(run.steps):
        return major.refuse(404, "TaskInstance not found", "TaskInstance not found")
    now = world(request).scenario.now()
    current = major.task_instance(run, n, run.steps[n], now)
    tries = [
        {
            key: value
            for key, value in current.items()
            if key not in (NOT_PER_TRY_V2 if major.v2 else NOT_PER_TRY_V1)
        }
        | ({} if number == current["try_number"] else {"try_number": number, "state": "failed"})
        for number in range(1, current["try_number"] + 1)
    ]
    return json_response({"task_instances": tries, "total_entries": len(tries)})  # no cursors


async def one_task_instance(request: Request, major: Major):
    """GET one task instance; PATCH sets its state (…/dry_run: Airflow 3's preview)."""
    run = find(request)
    found = TASK_ID.fullmatch(request.path_params["task_id"])
    n = int(found.group(1)) if found else -1
    if run is None or not 0 <= n < len(run.steps):
        return major.refuse(404, "TaskInstance not found", "TaskInstance not found")
    if request.method == "PATCH":
        return await set_task_state(request, major, run, n)
    now = world(request).scenario.now()
    return json_response(major.task_instance(run, n, run.steps[n], now))


def dag_of(request: Request) -> sc.Run | None:
    """The newest run of the DAG the path names: the emulator's DAGs are known by their runs."""
    wanted = request.path_params["dag_id"]
    return next((r for r in world(request).scenario.visible(API) if dag_id(r) == wanted), None)


def dag_not_found(request: Request, major: Major) -> Response:
    wanted = request.path_params["dag_id"]
    return major.refuse(404, "DAG not found", f"DAG with dag_id: '{wanted}' not found")


async def get_dag(request: Request, major: Major):
    if (run := dag_of(request)) is None:
        return dag_not_found(request, major)
    if request.method == "PATCH":
        return await pause(request, major, run)
    paused = (API, run.definition_id) in world(request).scenario.paused
    return json_response(major.dag(run) | {"is_paused": paused})


async def dag_tasks(request: Request, major: Major):
    if (run := dag_of(request)) is None:
        return dag_not_found(request, major)
    downstream: dict[str, list[str]] = {step.id: [] for step in run.steps}
    for n, step in enumerate(run.steps):
        for up in step.upstream:
            downstream[up].append(task_id(n))
    tasks = [task(run, n, sorted(downstream[s.id])) for n, s in enumerate(run.steps)]
    return json_response({"tasks": tasks, "total_entries": len(tasks)})


TASK_ID = re.compile(r"step_(\d{3})")
# a try's record: the task instance's, less what belongs to the task instance as a whole
NOT_PER_TRY = {"rendered_map_index", "rendered_fields", "trigger", "triggerer_job", "note"}
NOT_PER_TRY_V1 = NOT_PER_TRY | {"execution_date", "sla_miss"}
NOT_PER_TRY_V2 = NOT_PER_TRY | {"id", "logical_date", "run_after"}


async def task_log(request: Request, major: Major):
    run = find(request)
    found = TASK_ID.fullmatch(request.path_params["task_id"])
    n = int(found.group(1)) if found else -1
    if run is None or not 0 <= n < len(run.steps):
        return major.refuse(404, "TaskInstance not found", "TaskInstance not found")
    try_number = request.path_params["try_number"]
    messages = log_messages(run, n, world(request).scenario.now(), try_number)
    accept = request.headers.get("accept", "")
    if major.v2:
        if "application/json" not in accept:
            return major.refuse(406, "Not Acceptable", "Only application/json is supported")
        return json_response({"content": messages, "continuation_token": None})
    text = log_text(messages)
    if "text/plain" in accept:
        return Response(text, media_type="text/plain")
    # JSON: the content is the Python repr of [(host, text)], as Airflow 2 serialises it
    return json_response(
        {
            "content": repr([("airflow-worker-0", text)]),
            "continuation_token": "eyJlbmRfb2ZfbG9nIjp0cnVlfQ",
        }
    )


def runs_by_id(scenario: sc.Scenario, api: str) -> RunsById:
    """DAG runs by "dag_id/dag_run_id", the connector's external id."""
    return {f"{dag_id(run)}/{run_id(run)}": (run, None) for run in scenario.visible(api)}


def api_routes(major: Major) -> list[Route]:
    runs = f"{major.prefix}/dags/{{dag_id}}/dagRuns"
    return [
        Route(f"{major.prefix}/version", endpoint(version, major, public=True)),
        Route(
            f"{major.prefix}/dags/{{dag_id}}", endpoint(get_dag, major), methods=["GET", "PATCH"]
        ),
        Route(f"{major.prefix}/dags/{{dag_id}}/tasks", endpoint(dag_tasks, major)),
        Route(runs, endpoint(list_dag_runs, major), methods=["GET", "POST"]),
        Route(f"{runs}/{{dag_run_id}}", endpoint(get_dag_run, major), methods=["GET", "PATCH"]),
        Route(
            f"{major.prefix}/dags/{{dag_id}}/clearTaskInstances",
            endpoint(clear_task_instances, major),
            methods=["POST"],
        ),
        Route(f"{runs}/{{dag_run_id}}/taskInstances", endpoint(task_instances, major)),
        Route(
            f"{runs}/{{dag_run_id}}/taskInstances/{{task_id}}/tries", endpoint(task_tries, major)
        ),
        *(
            Route(
                f"{runs}/{{dag_run_id}}/taskInstances/{{task_id}}{tail}",
                endpoint(one_task_instance, major),
                methods=["GET", "PATCH"],
            )
            for tail in ("", "/dry_run")
        ),
        Route(
            f"{runs}/{{dag_run_id}}/taskInstances/{{task_id}}/logs/{{try_number:int}}",
            endpoint(task_log, major),
        ),
    ]


PATHS = ("/api/v1/", f"{AIRFLOW3_PATH}/")
routes = [
    *api_routes(AIRFLOW_2),
    *api_routes(AIRFLOW_3),
    Route(f"{AIRFLOW3_PATH}/auth/token", issue_token, methods=["POST"]),
    Route(f"{AIRFLOW3_PATH}/api/v1/{{rest:path}}", v1_removed),
]

"""Apache Airflow 2 stable REST API (/api/v1, Basic auth): DAG runs, their task instances, the
DAG's tasks (for the edges) and task logs, as apache-airflow-client 2.10 reads them. Errors
are connexion's problem documents."""

import base64
import hmac
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from instances.emulator import scenario as sc
from instances.emulator.common import RunsById, json_response, world
from instances.emulator.failures import failure

from . import demo
from .emulator_records import (
    RUN_STATE,
    dag_id,
    dag_run,
    run_id,
    stamp,
    task,
    task_id,
    task_instance,
    task_state,
    updated_at,
)

API = "airflow"
DOCS = "https://airflow.apache.org/docs/apache-airflow/2.10.4/stable-rest-api-ref.html"
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


def problem(status: int, title: str, detail: str, kind: str) -> Response:
    body = {
        "detail": detail,
        "status": status,
        "title": title,
        "type": f"{DOCS}#section/Errors/{kind}",
    }
    response = json_response(body, status)
    response.headers["content-type"] = "application/problem+json"
    return response


def basic_auth(handler: Callable[[Request], Awaitable[Response]]):
    """Every endpoint: Basic auth as the basic_auth backend checks it, else 401."""

    @wraps(handler)
    async def checked(request: Request) -> Response:
        expected = base64.b64encode(f"{demo.USER}:{demo.PASSWORD}".encode()).decode()
        if not hmac.compare_digest(request.headers.get("authorization", ""), f"Basic {expected}"):
            return problem(401, "Unauthorized", "Unauthenticated", "Unauthenticated")
        return await handler(request)

    return checked


def page(request: Request) -> tuple[int, int] | Response:
    try:
        limit = int(request.query_params.get("limit", MAX_LIMIT))
        offset = int(request.query_params.get("offset", 0))
    except ValueError:
        return problem(400, "Bad Request", "limit and offset must be integers", "BadRequest")
    if limit < 0 or offset < 0:
        return problem(400, "Bad Request", "limit and offset must not be negative", "BadRequest")
    return min(limit, MAX_LIMIT), offset


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace(" ", "+"))  # "+" unescaped in a query is " "
    except ValueError:
        return None


@basic_auth
async def list_dag_runs(request: Request):
    if isinstance(paged := page(request), Response):
        return paged
    limit, offset = paged
    scenario, query = world(request).scenario, request.query_params
    now = scenario.now()
    wanted = request.path_params["dag_id"]
    runs = [r for r in scenario.visible(API) if wanted in ("~", dag_id(r))]
    bounds = {
        "execution_date": lambda r: r.planned,
        "updated_at": lambda r: updated_at(r, now),
        "start_date": lambda r: r.start if r.status(now) != sc.PENDING else None,
        "end_date": lambda r: r.finished_at(now),
    }
    for field, value_of in bounds.items():
        for suffix, keep in (("_gte", lambda v, b: v >= b), ("_lte", lambda v, b: v <= b)):
            if (text := query.get(field + suffix)) is None:
                continue
            if (bound := parse_time(text)) is None or bound.tzinfo is None:
                return problem(
                    400,
                    "Bad Request",
                    f"{field + suffix}: not a timezone-aware ISO 8601 date-time",
                    "BadRequest",
                )
            runs = [r for r in runs if (v := value_of(r)) is not None and keep(v, bound)]
    if states := query.getlist("state"):
        runs = [r for r in runs if RUN_STATE[r.status(now)] in states]
    order = query.get("order_by", "id")
    if order.lstrip("-") not in RUN_ORDER:
        return problem(
            400,
            "Ordering with 'order_by' is disallowed or the attribute does not exist on the model",
            f"Ordering with '{order}' is disallowed or the attribute does not exist on the model",
            "BadRequest",
        )
    runs.sort(key=RUN_ORDER[order.lstrip("-")], reverse=order.startswith("-"))
    return json_response(
        {
            "dag_runs": [dag_run(r, now) for r in runs[offset : offset + limit]],
            "total_entries": len(runs),
        }
    )


def find(request: Request) -> sc.Run | None:
    wanted_dag, wanted_run = request.path_params["dag_id"], request.path_params["dag_run_id"]
    scenario = world(request).scenario
    return next(
        (r for r in scenario.visible(API) if dag_id(r) == wanted_dag and run_id(r) == wanted_run),
        None,
    )


def run_not_found(request: Request) -> Response:
    return problem(
        404,
        "DAGRun not found",
        f"DAGRun with DAG ID: "
        f"'{request.path_params['dag_id']}' and DagRun ID: "
        f"'{request.path_params['dag_run_id']}' not found",
        "NotFound",
    )


@basic_auth
async def get_dag_run(request: Request):
    if (run := find(request)) is None:
        return run_not_found(request)
    return json_response(dag_run(run, world(request).scenario.now()))


@basic_auth
async def task_instances(request: Request):
    if isinstance(paged := page(request), Response):
        return paged
    limit, offset = paged
    if (run := find(request)) is None:
        return run_not_found(request)
    now = world(request).scenario.now()
    found = [task_instance(run, n, s, now) for n, s in enumerate(run.steps)]
    return json_response(
        {"task_instances": found[offset : offset + limit], "total_entries": len(found)}
    )


@basic_auth
async def dag_tasks(request: Request):
    wanted = request.path_params["dag_id"]
    run = next((r for r in world(request).scenario.visible(API) if dag_id(r) == wanted), None)
    if run is None:
        return problem(404, "DAG not found", f"DAG with dag_id: '{wanted}' not found", "NotFound")
    downstream: dict[str, list[str]] = {step.id: [] for step in run.steps}
    for n, step in enumerate(run.steps):
        for up in step.upstream:
            downstream[up].append(task_id(n))
    tasks = [task(run, n, sorted(downstream[s.id])) for n, s in enumerate(run.steps)]
    return json_response({"tasks": tasks, "total_entries": len(tasks)})


TASK_ID = re.compile(r"step_(\d{3})")


@basic_auth
async def task_log(request: Request):
    run = find(request)
    found = TASK_ID.fullmatch(request.path_params["task_id"])
    n = int(found.group(1)) if found else -1
    if run is None or not 0 <= n < len(run.steps):
        return problem(404, "TaskInstance not found", "TaskInstance not found", "NotFound")
    step, now = run.steps[n], world(request).scenario.now()
    lines = [
        f"[{stamp(step.start)}] {{taskinstance.py:2612}} INFO - Dependencies all met for "
        f"<TaskInstance: {dag_id(run)}.{task_id(n)} {run_id(run)} [queued]>"
    ]
    lines += [
        f"[{stamp(step.start)}] {{spark_submit.py:521}} INFO - {step.name}: stage {k} done"
        for k in range(30)
    ]
    if task_state(run, step, now) == "failed":
        lines += [
            f"[{stamp(step.end)}] {{taskinstance.py:3311}} ERROR - {line}"
            for line in failure(run, step).log
        ]
    text = "\n".join(lines) + "\n"
    if "text/plain" in request.headers.get("accept", ""):
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


PATHS = ("/api/v1/",)
routes = [
    Route("/api/v1/dags/{dag_id}/dagRuns", list_dag_runs),
    Route("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}", get_dag_run),
    Route("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", task_instances),
    Route(
        "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{try_number}",
        task_log,
    ),
    Route("/api/v1/dags/{dag_id}/tasks", dag_tasks),
]

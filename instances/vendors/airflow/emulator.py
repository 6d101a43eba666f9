"""Apache Airflow's REST API, both majors over the same runs: Airflow 2 at the root (/api/v1,
Basic auth, connexion's problem documents, logs as text), Airflow 3 under /airflow3 (/api/v2,
JWTs from POST /auth/token, FastAPI's errors and 422s, logs as structured JSON; /api/v1
answers 404 as Airflow 3 does). DAGs, DAG runs, their task instances, the DAG's tasks (for
the edges) and task logs."""

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from instances.emulator import scenario as sc
from instances.emulator.common import RunsById, json_response, world
from instances.emulator.failures import failure

from . import demo
from .emulator_records import (
    RUN_STATE,
    dag,
    dag_id,
    dag_run,
    dag_run_v2,
    dag_v2,
    run_id,
    stamp,
    task,
    task_id,
    task_instance,
    task_instance_v2,
    task_state,
    updated_at,
)

API = "airflow"
DOCS = "https://airflow.apache.org/docs/apache-airflow/2.10.4/stable-rest-api-ref.html"
MAX_LIMIT = 100  # [api] maximum_page_limit
AIRFLOW3_PATH = "/airflow3"  # where the emulated Airflow 3 lives (its base URL's path)
TOKEN_SECONDS = 86400  # [api_auth] jwt_expiration_time
SECRET = secrets.token_bytes(32)  # [api_auth] jwt_secret
# dagRuns' order_by, as Airflow allows it (a leading "-" reverses)
RUN_ORDER = {
    "id": lambda r: r.seq,
    "execution_date": lambda r: r.planned,
    "start_date": lambda r: r.start,
    "end_date": lambda r: r.end,
    "dag_run_id": lambda r: run_id(r),
    "updated_at": lambda r: r.seq,
}


@dataclass(frozen=True)
class Major:
    """What differs between the emulated Airflow 2 and Airflow 3 over the same runs."""

    version: str
    prefix: str  # the API's path
    dag_run: Callable[[sc.Run, datetime], dict]
    task_instance: Callable[[sc.Run, int, sc.Step, datetime], dict]
    dag: Callable[[sc.Run], dict]

    @property
    def v2(self) -> bool:
        return self.prefix.endswith("/v2")

    def listed(self, answer: dict) -> dict:
        """A list's answer: Airflow 3.3 adds cursor paging's fields (null on offset pages)."""
        cursors = {"total_entries_limit": None, "next_cursor": None, "previous_cursor": None}
        return answer | cursors if self.v2 else answer

    def refuse(self, status: int, title: str, detail: str) -> Response:
        """Airflow 2: connexion's problem document; Airflow 3: FastAPI's {"detail": …}."""
        if self.v2:
            return json_response({"detail": detail}, status)
        kind = {400: "BadRequest", 401: "Unauthenticated", 404: "NotFound"}.get(status, title)
        body = {
            "detail": detail,
            "status": status,
            "title": title,
            "type": f"{DOCS}#section/Errors/{kind}",
        }
        response = json_response(body, status)
        response.headers["content-type"] = "application/problem+json"
        return response

    def invalid(self, name: str, text: str, why: str) -> Response:
        """A query parameter that is not what the API takes: 400, or Airflow 3's 422."""
        if not self.v2:
            return self.refuse(400, "Bad Request", f"{name}: {why}")
        problem = {"type": "value_error", "loc": ["query", name], "msg": why, "input": text}
        return json_response({"detail": [problem]}, 422)


AIRFLOW_2 = Major("2.10.5", "/api/v1", dag_run, task_instance, dag)
AIRFLOW_3 = Major("3.3.2", f"{AIRFLOW3_PATH}/api/v2", dag_run_v2, task_instance_v2, dag_v2)


def signed_in(major: Major, request: Request) -> Response | None:
    """None when the request may pass; else the refusal. Airflow 2: Basic auth as its
    basic_auth backend checks it. Airflow 3: a JWT this server issued, unexpired, not revoked
    (POST /_emulator/tokens/expire revokes every token)."""
    header = request.headers.get("authorization", "")
    if not major.v2:
        expected = base64.b64encode(f"{demo.USER}:{demo.PASSWORD}".encode()).decode()
        if hmac.compare_digest(header, f"Basic {expected}"):
            return None
        return major.refuse(401, "Unauthorized", "Unauthenticated")
    if not header.startswith("Bearer "):
        return major.refuse(401, "Unauthorized", "Not authenticated")
    token = header.removeprefix("Bearer ")
    claims = verified(token)
    if claims is None or claims["exp"] <= time.time() or token not in world(request).tokens:
        return major.refuse(401, "Unauthorized", "Invalid JWT token")
    return None


Handler = Callable[[Request, "Major"], Awaitable[Response]]


def endpoint(handler: Handler, major: Major, public: bool = False):
    """The handler as a route's endpoint on one major, behind its sign-in unless public."""

    async def answer(request: Request) -> Response:
        if not public and (refused := signed_in(major, request)):
            return refused
        return await handler(request, major)

    return answer


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: dict) -> str:
    head = b64(json.dumps({"alg": "HS512", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(SECRET, f"{head}.{body}".encode(), hashlib.sha512).digest()
    return f"{head}.{body}.{b64(signature)}"


def verified(token: str) -> dict | None:
    try:
        head, body, signature = token.split(".")
        expected = hmac.new(SECRET, f"{head}.{body}".encode(), hashlib.sha512).digest()
        if not hmac.compare_digest(b64(expected), signature):
            return None
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, TypeError):
        return None


async def issue_token(request: Request):
    """Airflow 3's simple auth manager: POST /auth/token {username, password} → a JWT."""
    try:
        given = await request.json()
    except ValueError:
        given = None
    if not isinstance(given, dict) or (given.get("username"), given.get("password")) != (
        demo.USER,
        demo.PASSWORD,
    ):
        return json_response({"detail": "Invalid credentials"}, 401)
    now = time.time()
    claims = {"sub": demo.USER, "role": "admin", "aud": "apache-airflow", "iat": int(now)}
    token = jwt(claims | {"nbf": int(now), "exp": int(now + TOKEN_SECONDS)})
    state = world(request)
    state.tokens[token] = state.scenario.now() + timedelta(days=3650)  # until revoked
    return json_response({"access_token": token}, 201)


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
    page_of = [major.dag_run(r, now) for r in runs[offset : offset + limit]]
    return json_response(major.listed({"dag_runs": page_of, "total_entries": len(runs)}))


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
    return json_response(major.listed({"task_instances": tries, "total_entries": len(tries)}))


def dag_of(request: Request) -> sc.Run | None:
    """The newest run of the DAG the path names: the emulator's DAGs are known by their runs."""
    wanted = request.path_params["dag_id"]
    return next((r for r in world(request).scenario.visible(API) if dag_id(r) == wanted), None)


def dag_not_found(request: Request, major: Major) -> Response:
    wanted = request.path_params["dag_id"]
    return major.refuse(404, "DAG not found", f"DAG with dag_id: '{wanted}' not found")


async def get_dag(request: Request, major: Major):
    run = dag_of(request)
    return dag_not_found(request, major) if run is None else json_response(major.dag(run))


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
SPARK_HOOK = "/home/airflow/.local/lib/python3.12/site-packages/airflow/providers/apache/spark"


def log_messages(run: sc.Run, n: int, now: datetime, try_number: int) -> list[dict]:
    """A task's log as Airflow 3 keeps it: structured messages; a failure's exception in
    error_detail (Airflow 2 prints the same as a traceback)."""
    step = run.steps[n]
    messages: list[dict] = [
        {
            "timestamp": stamp(step.start),
            "event": "Dependencies all met for "
            f"<TaskInstance: {dag_id(run)}.{task_id(n)} {run_id(run)} [queued]>",
            "level": "info",
            "logger": "airflow.models.taskinstance",
        }
    ]
    messages += [
        {
            "timestamp": stamp(step.start),
            "event": f"{step.name}: stage {k} done",
            "level": "info",
            "logger": "airflow.task.operators.spark_submit",
        }
        for k in range(30)
    ]
    # an earlier try failed, whatever the current one does
    if task_state(run, step, now) == "failed" or try_number < step.tries(now, run):
        failed = failure(run, step)
        messages += [
            {"timestamp": stamp(step.end), "event": line, "level": "error", "logger": "task"}
            for line in failed.log
        ]
        frame = {"filename": f"{SPARK_HOOK}/hooks/spark_submit.py", "lineno": 562}
        raised = {
            "exc_type": "AirflowException",
            "exc_value": failed.message,
            "exc_notes": [],
            "syntax_error": None,
            "is_cause": False,
            "frames": [frame | {"name": "submit"}],
            "is_group": False,
            "exceptions": [],
        }
        messages.append(
            {
                "timestamp": stamp(step.end),
                "event": "Task failed with exception",
                "level": "error",
                "task_id": task_id(n),
                "ti_id": f"01a24b39-0978-74b0-{n:04d}-{run.seq % 10**12:012d}",
                "try_number": try_number,
                "map_index": -1,
                "dag_id": dag_id(run),
                "run_id": run_id(run),
                "logger": "task",
                "filename": "task_runner.py",
                "lineno": 1676,
                "error_detail": [raised],
            }
        )
    return messages


def log_text(messages: list[dict]) -> str:
    """Airflow 2's text log of the same messages."""
    lines = []
    for m in messages:
        lines.append(
            f"[{m['timestamp']}] {{taskinstance.py:3311}} {m['level'].upper()} - {m['event']}"
        )
        for raised in m.get("error_detail", []):
            lines += ["Traceback (most recent call last):"]
            lines += [
                f'  File "{f["filename"]}", line {f["lineno"]}, in {f["name"]}'
                for f in raised["frames"]
            ]
            lines += [f"airflow.exceptions.{raised['exc_type']}: {raised['exc_value']}"]
    return "\n".join(lines) + "\n"


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
        Route(f"{major.prefix}/dags/{{dag_id}}", endpoint(get_dag, major)),
        Route(f"{major.prefix}/dags/{{dag_id}}/tasks", endpoint(dag_tasks, major)),
        Route(runs, endpoint(list_dag_runs, major)),
        Route(f"{runs}/{{dag_run_id}}", endpoint(get_dag_run, major)),
        Route(f"{runs}/{{dag_run_id}}/taskInstances", endpoint(task_instances, major)),
        Route(
            f"{runs}/{{dag_run_id}}/taskInstances/{{task_id}}/tries", endpoint(task_tries, major)
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

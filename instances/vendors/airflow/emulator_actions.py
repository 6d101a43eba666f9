"""Airflow's actions as its REST API documents them, over the emulated runs: clear task
instances (dry_run is true unless the body says false; only failed ones by default), set a
DAG run's state (failed fails its running tasks, the later ones are skipped) or a task
instance's (Airflow 2's dry_run true unless said; Airflow 3 commits, its preview is
…/dry_run), trigger a DAG run (409 on an id taken), pause or unpause a DAG."""

import json

from starlette.requests import Request
from starlette.responses import Response

from instances.emulator import scenario as sc
from instances.emulator.common import json_response, world

from .emulator_majors import Major
from .emulator_records import dag_id, run_id, task_id, task_state

API = "airflow"

FAILED_STATES = ("failed", "upstream_failed")  # what only_failed clears
RUN_STATES = ("queued", "success", "failed")  # what a DAG run's PATCH takes


async def body_of(request: Request, major: Major) -> dict | Response:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return major.refuse(400, "Bad Request", "Request body is not a JSON object")
    return body


def wanted_tasks(body: dict) -> set[str] | None:
    """task_ids: Airflow 3 takes a task id or [task_id, map_index] (the emulator maps none)."""
    given = body.get("task_ids")
    if given is None:
        return None
    return {str(item[0] if isinstance(item, list) and item else item) for item in given}


async def clear_task_instances(request: Request, major: Major):
    if isinstance(body := await body_of(request, major), Response):
        return body
    scenario = world(request).scenario
    now = scenario.now()
    wanted_dag = request.path_params["dag_id"]
    runs = [r for r in scenario.visible("airflow") if dag_id(r) == wanted_dag]
    if not runs:
        return major.refuse(404, "DAG not found", f"DAG with dag_id: '{wanted_dag}' not found")
    if (wanted_run := body.get("dag_run_id")) is not None:
        runs = [r for r in runs if run_id(r) == wanted_run]
    tasks = wanted_tasks(body)
    cleared: list[tuple[sc.Run, int]] = []
    for run in runs:
        for n, step in enumerate(run.steps):
            state = task_state(run, step, now)
            if tasks is not None and task_id(n) not in tasks:
                continue
            if body.get("only_failed", True) and state not in FAILED_STATES:
                continue
            if body.get("only_running", False) and state != "running":
                continue
            cleared.append((run, n))
    if not body.get("dry_run", True):  # the server's default is a dry run
        for run in {id(run): run for run, _ in cleared}.values():
            run.retry(now, scenario.rerun_for)
    if major.v2:
        found = [major.task_instance(run, n, run.steps[n], now) for run, n in cleared]
        return json_response({"task_instances": found, "total_entries": len(found)})
    references = [
        {
            "dag_id": dag_id(run),
            "dag_run_id": run_id(run),
            "execution_date": run.planned.isoformat(),
            "task_id": task_id(n),
        }
        for run, n in cleared
    ]
    return json_response({"task_instances": references})


async def set_run_state(request: Request, major: Major, run: sc.Run) -> Response:
    if isinstance(body := await body_of(request, major), Response):
        return body
    state = body.get("state")
    if state not in RUN_STATES:
        if major.v2:
            return major.invalid("state", str(state), f"Input should be {', '.join(RUN_STATES)}")
        return major.refuse(400, "Bad Request", f"'{state}' is not one of {list(RUN_STATES)}")
    now = world(request).scenario.now()
    if state == "failed":
        run.stop(now, sc.FAILED)
    elif state == "success":
        run.forced = sc.SUCCEEDED
    else:
        run.retry(now, world(request).scenario.rerun_for)
    return json_response(major.dag_run(run, now))


async def trigger(request: Request, major: Major) -> Response:
    if isinstance(body := await body_of(request, major), Response):
        return body
    scenario = world(request).scenario
    wanted = request.path_params["dag_id"]
    runs = [r for r in scenario.visible(API) if dag_id(r) == wanted]
    if not runs:
        return major.refuse(404, "DAG not found", f"DAG with dag_id: '{wanted}' not found")
    if major.v2 and "logical_date" not in body:
        return major.invalid("logical_date", "", "Field required")
    given = str(body.get("dag_run_id") or "")
    if given and any(run_id(r) == given for r in runs):
        detail = f"DAGRun with DAG ID: '{wanted}' and DAGRun ID: '{given}' already exists"
        return major.refuse(409, "Conflict", detail)
    run = scenario.trigger(API, runs[0].definition_id, name=given)
    assert run is not None  # its DAG has runs, so its definition exists
    return json_response(major.dag_run(run, scenario.now()))


async def set_task_state(request: Request, major: Major, run: sc.Run, n: int) -> Response:
    if isinstance(body := await body_of(request, major), Response):
        return body
    state = body.get("new_state")
    if state not in ("success", "failed", "skipped"):
        return major.refuse(400, "Bad Request", f"'{state}' is not one of success, failed, skipped")
    dry_run = request.url.path.endswith("/dry_run") or (not major.v2 and body.get("dry_run", True))
    now = world(request).scenario.now()
    if not dry_run:
        run.steps[n].marked = {"success": sc.SUCCEEDED, "failed": sc.FAILED}.get(state, sc.SKIPPED)
    found = major.task_instance(run, n, run.steps[n], now)
    if major.v2:
        return json_response({"task_instances": [found], "total_entries": 1})
    keys = ("dag_id", "dag_run_id", "execution_date", "task_id")
    return json_response({key: found[key] for key in keys})


async def pause(request: Request, major: Major, run: sc.Run) -> Response:
    """PATCH a DAG: only is_paused may change."""
    if isinstance(body := await body_of(request, major), Response):
        return body
    if not isinstance(body.get("is_paused"), bool):
        return major.invalid("is_paused", str(body.get("is_paused")), "Input should be a boolean")
    paused = world(request).scenario.paused
    key = (API, run.definition_id)
    paused.add(key) if body["is_paused"] else paused.discard(key)
    return json_response(major.dag(run) | {"is_paused": body["is_paused"]})

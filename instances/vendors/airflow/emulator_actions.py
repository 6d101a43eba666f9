"""Airflow's actions as its REST API documents them, over the emulated runs: clear task
instances (dry_run is true unless the body says false; only failed ones by default) and set a
DAG run's state (failed fails its running tasks, the later ones are skipped)."""

import json

from starlette.requests import Request
from starlette.responses import Response

from instances.emulator import scenario as sc
from instances.emulator.common import json_response, world

from .emulator_majors import Major
from .emulator_records import dag_id, run_id, task_id, task_state

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

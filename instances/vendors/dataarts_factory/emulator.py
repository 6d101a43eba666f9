"""Huawei Cloud DataArts Factory job/node instances (seed 002, vendor-apis.md §2), behind the
gate of emulator_gate (IAM tokens, AK/SK signatures) that Data Map's emulator shares."""

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from instances.emulator import scenario as sc
from instances.emulator.common import by_seq, epoch_ms, json_response, quartz, utc, world

from .emulator_gate import error, gate, iam_token
from .emulator_records import JOB_STATUS, job_instance, job_name

FACTORY = "dataarts_factory"
WINDOW_LIMIT = timedelta(days=7)


# ---- DataArts Factory ------------------------------------------------------------------------


def paging(query, default_limit: int = 10) -> tuple[int, int] | None:
    try:
        limit, offset = int(query.get("limit", default_limit)), int(query.get("offset", 0))
    except ValueError:
        return None
    return (limit, offset) if 1 <= limit <= 1000 and offset >= 0 else None


def planned_runs(
    request: Request, low_key: str, high_key: str, name: str | None, status: str | None
):
    """The job instances planned in the query's window (epoch ms, today by default, at most 7
    days), of one job and one status when given, and the page asked for; or the error."""
    scenario, query = world(request).scenario, request.query_params
    now = scenario.now()
    try:
        low = utc(float(query.get(low_key, epoch_ms(now.replace(hour=0, minute=0)))))
        high = utc(float(query.get(high_key, epoch_ms(now))))
    except ValueError:
        return error(400, "DLF.0802", f"{low_key}/{high_key} must be epoch milliseconds")
    if high - low > WINDOW_LIMIT:
        return error(400, "DLF.0802", "The time range cannot exceed 7 days.")
    if (page := paging(query)) is None:
        return error(400, "DLF.0802", "limit must be 1-1000 and offset ≥ 0")
    limit, offset = page  # offset counts records (our documented reading of the API)
    runs = [
        r
        for r in scenario.visible(FACTORY)
        if low <= r.planned <= high
        and (not name or job_name(r.definition_id) == name)
        and (not status or JOB_STATUS[r.status(now)] == status)
    ]
    return len(runs), [job_instance(r, now, False) for r in runs[offset : offset + limit]]


async def list_job_instances(request: Request):
    """DataArts Factory v1 ListJobInstances (camelCase)."""
    if denied := await gate(request):
        return denied
    query = request.query_params
    found = planned_runs(
        request, "minPlanTime", "maxPlanTime", query.get("jobName"), query.get("status")
    )
    if not isinstance(found, tuple):
        return found
    return json_response({"total": found[0], "instances": found[1]})


# DataArts Studio v2 ListFactoryJobInstancesByName: the same records, snake_case
V2_FIELDS = {
    "jobName": "job_name",
    "status": "status",
    "jobInstanceName": "job_instance_name",
    "planTime": "plan_time",
    "startTime": "start_time",
    "endTime": "end_time",
    "executeTime": "execute_time",
    "instanceId": "instance_id",
    "instanceType": "instance_type",
    "submitTime": "submit_time",
    "jobId": "job_id",
    "version": "version",
    "forceSuccess": "force_success",
    "ignoreSuccess": "ignore_success",
}


async def list_job_instances_by_name(request: Request):
    if denied := await gate(request):
        return denied
    found = planned_runs(
        request,
        "min_plan_time",
        "max_plan_time",
        request.path_params["job_name"],
        request.query_params.get("status"),
    )
    if not isinstance(found, tuple):
        return found
    instances = [
        {V2_FIELDS[k]: v for k, v in record.items() if k in V2_FIELDS} for record in found[1]
    ]
    return json_response({"total": found[0], "instances": instances})


async def show_job_instance(request: Request):
    if denied := await gate(request):
        return denied
    scenario = world(request).scenario
    wanted = request.path_params["instance_id"]
    run = scenario.find_seq(FACTORY, int(wanted)) if wanted.isdigit() else None
    if run is None or job_name(run.definition_id) != request.path_params["job_name"]:
        return error(400, "DLF.0137", "The job instance does not exist.")
    return json_response(job_instance(run, scenario.now(), True))


async def act_on_instance(request: Request):
    """stop (only a running instance) and restart (a finished one; retry_location error_node:
    from the failed node; the emulator keeps the instance id, which the docs leave open):
    204 with no body. What a refusal's code is the docs do not say: DLF.0815 here."""
    if denied := await gate(request):
        return denied
    scenario = world(request).scenario
    wanted = request.path_params["instance_id"]
    run = scenario.find_seq(FACTORY, int(wanted)) if wanted.isdigit() else None
    if run is None or job_name(run.definition_id) != request.path_params["job_name"]:
        return error(400, "DLF.0137", "The job instance does not exist.")
    now, verb = scenario.now(), request.path_params["verb"]
    status = run.status(now)
    if verb == "stop" and status == sc.RUNNING:
        run.stop(now, sc.CANCELED)
    elif verb == "restart" and status in (sc.SUCCEEDED, sc.FAILED, sc.CANCELED, sc.TIMEOUT):
        run.retry(now, scenario.rerun_for)
    else:
        return error(400, "DLF.0815", f"The job instance cannot {verb} in its current state.")
    return Response(status_code=204)


async def run_immediate(request: Request):
    """A new instance of the job, now: {"instanceId": …}."""
    if denied := await gate(request):
        return denied
    scenario = world(request).scenario
    name = request.path_params["job_name"]
    known = next((r for r in scenario.visible(FACTORY) if job_name(r.definition_id) == name), None)
    run = scenario.trigger(FACTORY, known.definition_id) if known else None
    if run is None:
        return error(400, "DLF.0100", "The job does not exist.")
    return json_response({"instanceId": run.seq})


async def show_job(request: Request):
    if denied := await gate(request):
        return denied
    scenario = world(request).scenario
    name = request.path_params["job_name"]
    runs = [r for r in scenario.visible(FACTORY) if job_name(r.definition_id) == name]
    if not runs:
        return error(400, "DLF.0100", "The job does not exist.")
    names = {step.id: step.name for step in runs[0].steps}
    nodes = [
        {"name": step.name, "type": "DLISQL", "preNodeName": [names[up] for up in step.upstream]}
        for step in runs[0].steps
    ]
    schedule = {"type": "CRON", "cron": {"expression": quartz(runs[0].period)}}
    return json_response(
        {"name": name, "nodes": nodes, "processType": "BATCH", "schedule": schedule}
    )


PATHS = (r"/v3/auth/tokens", r"/v1/[^/]+/jobs", r"/v2/[^/]+/factory/")
runs_by_id = by_seq


routes = [
    Route("/v3/auth/tokens", iam_token, methods=["POST"]),
    Route("/v1/{project_id}/jobs/instances/detail", list_job_instances),
    Route("/v2/{project_id}/factory/jobs/{job_name}/instances/detail", list_job_instances_by_name),
    Route("/v1/{project_id}/jobs/{job_name}/instances/{instance_id}", show_job_instance),
    Route("/v1/{project_id}/jobs/{job_name}", show_job),
    Route("/v1/{project_id}/jobs/{job_name}/run-immediate", run_immediate, methods=["POST"]),
    Route(
        "/v1/{project_id}/jobs/{job_name}/instances/{instance_id}/{verb:str}",
        act_on_instance,
        methods=["POST"],
    ),
]

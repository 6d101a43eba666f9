"""Huawei Cloud: IAM tokens, DataArts Factory job/node instances and the Data Map "Output
Information" of job operators (seed 002, vendor-apis.md §2)."""

import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from instances.emulator import scenario as sc
from instances.emulator.auth import in_time
from instances.emulator.common import by_seq, epoch_ms, json_response, quartz, utc, world

from . import demo
from .emulator_records import JOB_STATUS, job_instance, job_name
from .signing import HUAWEI_DATE_FORMAT, huawei_canonical_request, huawei_signature

FACTORY = "dataarts_factory"
TOKEN_LIFETIME = timedelta(hours=24)
WINDOW_LIMIT = timedelta(days=7)


def error(status: int, code: str, message: str):
    return json_response({"error_code": code, "error_msg": message}, status)


async def iam_token(request: Request):
    try:
        identity = (await request.json())["auth"]["identity"]["password"]["user"]
        user, password, domain = identity["name"], identity["password"], identity["domain"]["name"]
    except (ValueError, KeyError, TypeError):
        return json_response(
            {"error": {"code": 400, "message": "Request body is invalid.", "title": "Bad Request"}},
            400,
        )
    if (user, password, domain) != (demo.USER, demo.PASSWORD, demo.DOMAIN):
        return json_response(
            {
                "error": {
                    "code": 401,
                    "title": "Unauthorized",
                    "message": "The username or password is wrong.",
                }
            },
            401,
        )
    state = world(request)
    now = state.scenario.now()
    token = f"MII{secrets.token_urlsafe(48)}"
    state.tokens[token] = now + TOKEN_LIFETIME
    body = {
        "token": {
            "expires_at": (now + TOKEN_LIFETIME).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "issued_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "methods": ["password"],
            "project": {
                "id": demo.PROJECT_ID,
                "name": "cn-north-4",
                "domain": {"name": demo.DOMAIN},
            },
            "user": {"name": user, "domain": {"name": domain}},
        }
    }
    return json_response(body, 201, {"X-Subject-Token": token})


AKSK = re.compile(
    r"SDK-HMAC-SHA256 Access=([^,\s]+), SignedHeaders=([^,\s]+), Signature=([0-9a-f]+)"
)


def aksk_ok(method: str, path: str, query: list[tuple[str, str]], headers, body: bytes) -> bool:
    """APIG's AK/SK check: our access key, host and X-Sdk-Date signed, the date within 15
    minutes of the real clock, and the signature the secret key gives."""
    found = AKSK.fullmatch(headers.get("authorization", ""))
    if not found or found.group(1) != demo.AK:
        return False
    signed = found.group(2).split(";")
    sdk_date = headers.get("x-sdk-date", "")
    try:
        at = datetime.strptime(sdk_date, HUAWEI_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return False
    if not {"host", "x-sdk-date"} <= set(signed) or not in_time(at):
        return False
    canonical = huawei_canonical_request(
        method,
        path,
        query,
        dict(headers.items()),
        signed,
        body,
        headers.get("x-sdk-content-sha256", ""),
    )
    return hmac.compare_digest(huawei_signature(demo.SK, sdk_date, canonical), found.group(3))


async def gate(request: Request):
    """APIG's checks: an AK/SK signature or a valid X-Auth-Token, then our project; None when
    the request may pass."""
    token = request.headers.get("x-auth-token")
    state = world(request)
    if request.headers.get("authorization", "").startswith("SDK-HMAC-SHA256 "):
        if not aksk_ok(
            request.method,
            request.url.path,
            request.query_params.multi_items(),
            request.headers,
            await request.body(),
        ):
            return error(
                401,
                "APIG.0301",
                "Incorrect IAM authentication information: verify aksk signature fail",
            )
    elif not token:
        return error(
            401, "APIG.0301", "Incorrect IAM authentication information: x-auth-token not found"
        )
    elif token not in state.tokens:
        return error(
            401, "APIG.0301", "Incorrect IAM authentication information: decrypt token fail"
        )
    elif not state.token_valid(token):
        return error(401, "APIG.0301", "Incorrect IAM authentication information: token expires")
    if request.path_params["project_id"] != demo.PROJECT_ID:
        return error(403, "DLF.6888", "Invalid account permission")
    return None


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

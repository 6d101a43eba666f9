"""EnOS Batch Processing Service v2.1 (seed 001, vendor-apis.md §1) behind its APIM gateway
(emulator_apim: the token service, seed 000). The batch service is built per version
(`service`): Dataflow Batch v2.0, the same API with its own envelope and no task detail, is
served by the same code from its own folder."""

import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from instances.emulator import scenario as sc
from instances.emulator.common import by_run_id, json_response, naive_local, utc, world
from instances.emulator.failures import failure
from instances.emulator.samples import sample_text

from . import demo
from .emulator_apim import gateway_error, request_ok, token
from .emulator_records import (
    STATUS,
    VERSIONS,
    Version,
    flow_instance,
    flow_type,
    task_inst_id,
    task_instance,
)

API = "enos_batch_v21"


def envelope(version: str, data=None, code: int = 0, msg: str | None = None):
    key, success = VERSIONS[version].result_key, VERSIONS[version].success
    body = {key: code, "msg": success if code == 0 else msg, "data": data}
    if key == "code":
        body["requestId"] = secrets.token_hex(16)
    return json_response(body)


def seed_reply(version: str, sample: str, whole: bool) -> Response:
    """A seed document's sample as printed: the whole reply, or its data inside our envelope
    (the v2.0 sample's graph is not valid JSON: served so, as the document shows it)."""
    if whole:
        return Response(sample, media_type="application/json")
    key, success = VERSIONS[version].result_key, VERSIONS[version].success
    head = json.dumps({key: 0, "msg": success}, ensure_ascii=False)[:-1]
    return Response(f'{head},"data":{sample}}}', media_type="application/json")


INSTANCE_ID = re.compile(r'"instanceId"\s*:\s*"([^"]+)"')


@cache
def seed_samples(prefix: str) -> dict[tuple[str, str], tuple[str, bool]]:
    """One version's seed samples: (resource, documented instance id) → (text, whole)."""
    version, found = VERSIONS[prefix], {}
    for resource, name, whole in version.samples:
        sample = sample_text(version.api, name)
        if (instance := INSTANCE_ID.search(sample)) is None:
            raise ValueError(f"{name} names no instanceId")
        found[(resource, instance.group(1))] = (sample, whole)
    return found


async def batch(request: Request):
    version = request.url.path.rsplit("/", 1)[0].lstrip("/")
    state = world(request)
    token = request.headers.get("apim-accesstoken", "")
    body = await request.body()
    query = dict(request.query_params)
    if token not in state.tokens:
        return gateway_error(401, 4012, "Invalid authentication credentials")
    if not state.token_valid(token):
        return gateway_error(401, 4011, "Access token expired")
    if not request_ok(token, request.headers, query, body):
        return gateway_error(401, 4012, "Invalid signature")
    resource, action = request.path_params["resource"], query.get("action", "")
    if resource == "time":
        return time_api(version, action, state.scenario.now())
    if query.get("orgId") != demo.ORG_ID or query.get("userId") != demo.USER_ID:
        return envelope(version, code=62101, msg="userId does not exist or does not match orgId")
    wanted = query.get("flowInstId") or query.get("taskInstId") or ""
    if action == "get" and (seed := seed_samples(version).get((resource, wanted))):
        return seed_reply(version, *seed)
    handler = HANDLERS.get((resource, action))
    if handler is None or (handler in V21_ONLY and not VERSIONS[version].task_detail):
        return envelope(version, code=62102, msg=f"Invalid parameter: action {action}")
    return handler(version, state.scenario, query, body)


def time_api(version: str, action: str, now: datetime):
    if action == "getTimeZone":
        return envelope(version, {"timezone": "GMT+8"})
    if action == "getCurrentTime":
        return envelope(version, int(now.timestamp() * 1000))
    return envelope(version, code=62102, msg=f"Invalid parameter: action {action}")


def search(version, scenario, query, body):
    try:
        spec = json.loads(body or b"{}")
        pagination = spec.get("pagination") or {}
        page_no, page_size = int(pagination.get("pageNo", 0)), int(pagination.get("pageSize", 10))
        low = spec.get("fromTriggerTime", spec.get("startTriggerTime"))
        high = spec.get("toTriggerTime", spec.get("endTriggerTime"))
        statuses = {int(s) for s in str(spec.get("status", "")).split(",") if s.strip()}
        wanted_type = int(spec["type"])  # mandatory
    except (ValueError, TypeError, AttributeError, KeyError):
        return envelope(version, code=62102, msg="Invalid parameter")
    for sorter in pagination.get("sorters") or []:
        if sorter.get("field") not in SORTERS:
            return envelope(version, code=62102, msg=f"Illegal sorter field {sorter.get('field')}")
    if page_size <= 0 or page_no < 0:
        return envelope(version, code=62102, msg="Invalid parameter: pagination")
    vendor = VERSIONS[version].api
    now = scenario.now()
    expression, owner = spec.get("expression"), spec.get("owner")
    runs = [
        r
        for r in reversed(scenario.visible(vendor))  # oldest first, by trigger time
        if (low is None or r.planned >= utc(low))
        and (high is None or r.planned < utc(high))
        and flow_type(r) == wanted_type
        and (not statuses or STATUS[r.status(now)][0] in statuses)
        and (not owner or r.owner == owner)
        and (not expression or expression in r.id + r.definition_name)
    ]
    page = runs[page_no * page_size : (page_no + 1) * page_size]
    flows = [flow_instance(version, r, now, listed=True) for r in page]
    return envelope(version, {"flowInsts": flows, "count": len(runs)})


SORTERS = {
    "createTime",
    "updateTime",
    "startTime",
    "triggerTime",
    "endTime",
    "create_time",
    "update_time",
    "start_time",
}


def get_flow(version, scenario, query, body):
    run = scenario.find(VERSIONS[version].api, query.get("flowInstId", ""))
    if run is None:
        return envelope(version, code=62102, msg="Invalid flowInstId")
    return envelope(version, flow_instance(version, run, scenario.now()))


def cancel(version, scenario, query, body):
    try:
        flow_inst_id = json.loads(body)["flowInstId"]
    except (ValueError, KeyError, TypeError):
        return envelope(version, code=62102, msg="Invalid parameter")
    run = scenario.find(VERSIONS[version].api, flow_inst_id)
    if run is None:
        return envelope(version, code=62102, msg="Invalid flowInstId")
    if run.status(scenario.now()) in (sc.PENDING, sc.RUNNING):
        run.stop(scenario.now(), sc.CANCELED)
    return envelope(version, "")


def trigger(version, scenario, query, body, from_task: bool = False):
    """A new flow instance now (all of it, or from one task down); triggerFromTask refuses
    the same flow twice within a minute."""
    try:
        given = json.loads(body)
        flow_id, task = str(int(given["flowId"])), given.get("taskId") if from_task else None
    except (ValueError, KeyError, TypeError):
        return envelope(version, code=62102, msg="Invalid parameter")
    api, now = VERSIONS[version].api, scenario.now()
    latest = max(
        (r.planned for r in scenario.visible(api) if r.definition_id == flow_id and r.triggered),
        default=None,
    )
    if from_task and latest and now - latest < timedelta(minutes=1):
        return envelope(
            version,
            code=62102,
            msg="Please do not trigger the same workflow repeatedly in 1 minute",
        )
    step = None
    if task is not None:
        step = int(str(task)[-3:]) if str(task).isdigit() and str(task).startswith(flow_id) else -1
    run = scenario.trigger(api, flow_id, step) if step != -1 else None
    if run is None:
        return envelope(version, code=62102, msg="Invalid flowId or taskId")
    return envelope(version, {"flowInstanceId": run.id})


def trigger_from_task(version, scenario, query, body):
    return trigger(version, scenario, query, body, from_task=True)


def locate_task(version, scenario, query):
    task_id, _, stamp = query.get("taskInstId", "").partition("-")
    run = scenario.find_seq(VERSIONS[version].api, int(task_id[:-3])) if task_id.isdigit() else None
    step = next((s for s in run.steps if s.id == task_id), None) if run else None
    return (run, step) if run and step and run.id.endswith(f"-{stamp}") else (None, None)


def get_task(version, scenario, query, body):
    run, step = locate_task(version, scenario, query)
    if run is None:
        return envelope(version, code=62102, msg="Invalid taskInstId")
    return envelope(version, task_instance(run, step, scenario.now()))


def get_log(version, scenario, query, body):
    run, step = locate_task(version, scenario, query)
    now = scenario.now()
    if run is None or step.status(now, run) == sc.PENDING:
        return envelope(version, code=62109, msg="No log found")
    lines = [
        f"run num: {step.attempts}",
        f"instance: {task_inst_id(run, step)}",
        f"cmdline: sh run_{step.id}.sh",
        f"submitter: {run.owner}",
        f"current time: {format_datetime(now.astimezone(UTC))}",
    ]
    lines += [f"[{naive_local(step.start)}] processed batch {n}" for n in range(200)]
    if step.status(now, run) in (sc.FAILED, sc.TIMEOUT):
        lines += [f"[{naive_local(step.end)}] {line}" for line in failure(run, step).log]
    text = "\n".join(lines)
    limit = int(query.get("maxLength", 2**20))
    return envelope(version, {"log": text[-limit:]})


V21_ONLY = (get_task, trigger_from_task)
HANDLERS = {
    ("flowInstances", "search"): search,
    ("flowInstances", "get"): get_flow,
    ("flowInstances", "cancel"): cancel,
    ("flows", "trigger"): trigger,
    ("flows", "triggerFromTask"): trigger_from_task,
    ("taskInstances", "get"): get_task,
    ("taskInstances", "getLog"): get_log,
}


def service(version: Version) -> list[Route]:
    """The token service and this version's batch service."""
    VERSIONS[version.prefix] = version
    return [
        Route("/apim-token-service/v2.0/token/get", token, methods=["POST"]),
        Route("/apim-token-service/v2.0/token/refresh", token, methods=["POST"]),
        Route(f"/{version.prefix}/{{resource}}", batch, methods=["GET", "POST"]),
    ]


PATHS = ("/batch-processing-service/", "/apim-token-service/")
runs_by_id = by_run_id
routes = service(
    Version(
        prefix="batch-processing-service/v2.1",
        api=API,
        result_key="code",
        success="OK",
        graph_keys={"doAs": "do_as", "appId": "app_id"},  # as seed 001 prints them
        samples=(
            ("flowInstances", "flow_instance_seed001.json", True),
            ("flowInstances", "flow_instance_seed001_data.json", False),
            ("taskInstances", "task_instance_seed000.json", True),
        ),
    )
)

"""Huawei Cloud DataArts Studio: DataArts Factory job instances with their node instances (the
DAG from the job definition's preNodeName), and Data Map "Output Information" — runs of
watched job operators, a JSON string inside a proxy envelope. Both behind an IAM token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

import httpx

from instances.connectors import base
from instances.connectors.acting import ANSWER_KEPT, ENDED, Move, Target, VendorAnswer, VendorCall
from instances.connectors.base import Connector, LogChunk, RunRecord
from instances.connectors.http import VendorHTTP
from instances.connectors.normalize import epoch_ms, status_from
from instances.connectors.paging import ambiguous_offset_pages
from instances.status import Kind, Status

from .auth import AkSkSignature, IamToken, iam_endpoint

PAGE_SIZE = 100
DEFAULT_WINDOW = timedelta(days=2)
WINDOW_LIMIT = timedelta(days=7)  # the API refuses longer plan-time ranges
STATUS = {
    "waiting": Status.PENDING,
    "waiting-confirm": Status.PENDING,
    "freeze": (Status.PENDING, "frozen"),
    "pause": (Status.PENDING, "paused"),
    "running": Status.RUNNING,
    "success": Status.SUCCEEDED,
    "forceSuccess": (Status.SUCCEEDED, "forced"),
    "ignoreSuccess": (Status.SUCCEEDED, "failure_ignored"),
    "fail": Status.FAILED,
    "running-exception": Status.FAILED,
    "skip-by-depend": Status.SKIPPED,
    "skip": Status.SKIPPED,
    "manual-stop": Status.CANCELED,
    "other": Status.UNKNOWN,
}


class DataArts(Connector):
    """What both DataArts APIs share: the authenticated client (AK/SK when the credentials
    hold `ak` and `sk`, else an IAM password token) and the error shape."""

    gone_codes = frozenset({"DLF.0100", "DLF.0137"})  # job, job instance does not exist
    scope_header: str  # the scope value sent as a header of that name: workspace, instance

    def __init__(self, config):
        super().__init__(config)
        self.headers = {self.scope_header: config.scope.get(self.scope_header, "")}
        self.project = config.scope.get("project_id", "")
        secrets = config.credentials
        signer: httpx.Auth
        if secrets.get("ak") and secrets.get("sk"):
            signer = AkSkSignature(secrets["ak"], secrets["sk"], self.project)
        else:
            signer = IamToken(iam_endpoint(config), secrets, self.project)
        self.http = VendorHTTP(config.base_url, auth=signer)

    def get(self, path: str, headers: dict, **params):
        response = self.http.request(
            "GET", f"/v1/{self.project}{path}", params=params, headers=headers
        )
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            raise base.BadPayload(f"{path}: body is not JSON ({exc})") from exc
        if response.status_code >= 400 or (isinstance(body, dict) and _error(body)):
            code, message = _error(body) if isinstance(body, dict) else (None, None)
            raise base.VendorError(code or response.status_code, message or response.text[:300])
        return body

    def status(self, value, forced=False, ignored=False):
        if forced:
            value = "forceSuccess"
        elif ignored:
            value = "ignoreSuccess"
        return status_from(STATUS, self.kind, value)

    def fetch_log(self, external_id, log_locator, max_bytes):
        """Logs stay in the customer's OBS bucket: we show where."""
        return LogChunk(text="", truncated=False, download_url=log_locator)


def _error(body: dict):
    code = body.get("error_code") or body.get("errorCode")  # docs and schema disagree
    return (code, body.get("error_msg") or body.get("errorMsg")) if code else None


def cron_expression(job: dict) -> str:
    """A job's schedule as DLF gives it: `schedule.cron.expression` (Quartz); "" when it has
    none (an event-driven or manual job), as huaweicloudsdkdlf's v1 Schedule and Cron models
    put it."""
    schedule = job.get("schedule") if isinstance(job, dict) else None
    cron = schedule.get("cron") if isinstance(schedule, dict) else None
    expression = cron.get("expression") if isinstance(cron, dict) else None
    return expression if isinstance(expression, str) else ""


def windows(since: datetime | None, now: datetime):
    """Plan-time windows of at most seven days, oldest first."""
    start = since or now - DEFAULT_WINDOW
    while start < now:
        end = min(start + WINDOW_LIMIT, now)
        yield start, end
        start = end


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class DataArtsFactory(DataArts):
    kind = "dataarts_factory"
    label = "Huawei DataArts Factory"
    scope_header = "workspace"
    moves = {
        "retry": Move("retry", when=frozenset({Status.FAILED, Status.CANCELED})),
        "stop": Move("stop", when=frozenset({Status.RUNNING})),  # "only when running"
        "rerun": Move("rerun", when=ENDED, new_run=True),  # run-immediate: a new instance
    }

    def __init__(self, config):
        super().__init__(config)
        self.job_graphs: dict[str, dict[str, list[str]]] = {}
        self.job_crons: dict[str, str] = {}  # a job's schedule.cron.expression (Quartz)

    def iter_pages(self, since):
        for low, high in windows(since, datetime.now(UTC)):

            def fetch(offset, limit, low=low, high=high):
                page = self.get(
                    "/jobs/instances/detail",
                    self.headers,
                    minPlanTime=ms(low),
                    maxPlanTime=ms(high),
                    limit=limit,
                    offset=offset,
                )
                page = page if isinstance(page, dict) else {}
                return page.get("instances"), int(page.get("total") or 0)

            for items in ambiguous_offset_pages(fetch, PAGE_SIZE):
                yield self.each(self.job_record, items)

    def detail(self, external_id: str) -> list[RunRecord]:
        name, _, instance_id = external_id.rpartition("/")
        job = self.get(f"/jobs/{quote(name, safe='')}/instances/{instance_id}", self.headers)
        preds = self.graph(name)
        nodes = [n for n in job.get("nodes") or [] if isinstance(n, dict) and n.get("nodeName")]
        node_ids = {n["nodeName"]: f"{external_id}/{n['nodeName']}" for n in nodes}
        edges = tuple(
            (node_ids[up], node_ids[down])
            for down in node_ids
            for up in preds.get(down, [])
            if up in node_ids
        )
        root = self.job_record(job, edges=edges, has_children=True)
        return [root, *self.each(lambda node: self.node_record(node, external_id), nodes)]

    # -- acting: rerun from the failed node, stop (DLF v1) -------------------------------------

    def call_for(self, move: Move, target: Target) -> VendorCall:
        job, _, instance_id = target.run_id.rpartition("/")
        if move.name == "rerun":
            path = f"/v1/{self.project}/jobs/{quote(job, safe='')}/run-immediate"
            return VendorCall("POST", path, body={"jobParams": []}, headers=self.headers)
        path = f"/v1/{self.project}/jobs/{quote(job, safe='')}/instances/{instance_id}"
        # restart's body is in the 2025 docs only (the 3.1.219 SDK cannot send it)
        body = {"retry_location": "error_node"} if move.name == "retry" else None
        verb = "restart" if move.name == "retry" else "stop"
        return VendorCall("POST", f"{path}/{verb}", body=body, headers=self.headers)

    def answer_of(self, response: httpx.Response) -> VendorAnswer:
        """204 for stop and restart; run-immediate's new instanceId; else DLF's error."""
        text = response.text[:ANSWER_KEPT]
        request_id = response.headers.get("X-request-id", "")
        try:
            body = response.json() if text else None
        except ValueError:
            body = None
        said = _error(body) if isinstance(body, dict) else None
        message = f"{said[0]}: {said[1]}" if said else ("" if response.is_success else text[:300])
        started = body.get("instanceId") if isinstance(body, dict) else None
        job = response.request.url.path.rsplit("/", 2)[-2]  # …/jobs/{job}/run-immediate
        new_run = f"{unquote(job)}/{started}" if started is not None else ""
        return VendorAnswer(
            response.status_code, response.is_success, message, request_id, new_run, text
        )

    def graph(self, job_name: str) -> dict[str, list[str]]:
        """node name → upstream node names, from the job definition (cached per job)."""
        if job_name not in self.job_graphs:
            job = self.get(f"/jobs/{quote(job_name, safe='')}", self.headers)
            self.job_crons[job_name] = cron_expression(job)
            self.job_graphs[job_name] = {
                n["name"]: list(n.get("preNodeName") or [])
                for n in job.get("nodes") or []
                if n.get("name")
            }
        return self.job_graphs[job_name]

    def job_record(self, item: dict, edges=(), has_children=False) -> RunRecord:
        if not item.get("jobName") or item.get("instanceId") is None:
            raise base.BadPayload(f"job instance without jobName/instanceId: {str(item)[:200]}")
        status, flags = self.status(
            item.get("status"), item.get("forceSuccess"), item.get("ignoreSuccess")
        )
        started, finished = epoch_ms(item.get("startTime")), epoch_ms(item.get("endTime"))
        return RunRecord(
            external_id=f"{item['jobName']}/{item['instanceId']}",
            kind=Kind.JOB,
            name=item.get("jobInstanceName") or item["jobName"],
            status=status,
            vendor_status=str(item.get("status")),
            definition_id=item["jobName"],
            definition_name=item["jobName"],
            flags=flags,
            planned_at=epoch_ms(item.get("planTime")),
            started_at=started,
            finished_at=finished,
            error_message=item.get("errorMessage") or "",
            schedule=self.job_crons.get(item["jobName"], ""),
            edges=edges,
            has_children=has_children,
            raw={k: v for k, v in item.items() if k not in ("nodes", "total")},
        )

    def node_record(self, node: dict, job_id: str) -> RunRecord:
        status, flags = self.status(node.get("status"))
        retries = node.get("retryTimes")
        return RunRecord(
            external_id=f"{job_id}/{node['nodeName']}",
            kind=Kind.TASK,
            parent_id=job_id,
            name=node["nodeName"],
            status=status,
            vendor_status=str(node.get("status")),
            definition_id=node["nodeName"],
            definition_name=node.get("type") or "",
            flags=flags,
            planned_at=epoch_ms(node.get("planTime")),
            started_at=epoch_ms(node.get("startTime")),
            finished_at=epoch_ms(node.get("endTime")),
            attempts=retries + 1 if isinstance(retries, int) else None,
            log_locator=node.get("logPath") or "",
            raw=node,
        )


CONNECTORS = (DataArtsFactory,)

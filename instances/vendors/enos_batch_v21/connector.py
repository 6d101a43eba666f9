"""EnOS batch APIs behind the APIM gateway: Batch Processing v2.1 and Dataflow Batch v2.0.
Flows are listed by trigger time; their tasks come from the flow's graph (and, in v2.1, each
task's own detail); edges from graph relations."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from functools import cached_property

import httpx

from instances.connectors.base import (
    AuthError,
    BadPayload,
    Connector,
    LogChunk,
    RunRecord,
    VendorError,
)
from instances.connectors.http import CachedTokenAuth, VendorHTTP
from instances.connectors.normalize import (
    gmt_zone,
    java_date,
    naive_local,
    nested_json,
    status_from,
)
from instances.status import Kind, Status

from .signing import enos_encryption, enos_signature

PAGE_SIZE = 50  # EnOS recommends at most 50 (Search Flow 3.0.0)
FLOW_TYPES = [0, 1, 2]  # manual, periodic, temporary: every kind of flow instance
DEFAULT_WINDOW = timedelta(days=2)
FUTURE = timedelta(days=1)  # trigger times a little ahead, for clock drift
_SUSPEND, _TIMEOUT = (Status.PENDING, "suspended"), (Status.FAILED, "timeout")
STATUS = {
    -1: Status.FAILED,
    0: Status.PENDING,
    1: Status.SUCCEEDED,
    2: Status.RUNNING,
    3: _SUSPEND,
    4: Status.FAILED,
    5: Status.PENDING,
    6: Status.PENDING,
    7: _TIMEOUT,
    8: Status.CANCELED,
    9: Status.RUNNING,
    10: Status.SKIPPED,
    "FAIL": Status.FAILED,
    "INIT": Status.PENDING,
    "SUCCESS": Status.SUCCEEDED,
    "RUNNING": Status.RUNNING,
    "SUSPEND": _SUSPEND,
    "INTERNAL_ERROR": Status.FAILED,
    "WAIT": Status.PENDING,
    "READY": Status.PENDING,
    "TIMEOUT": _TIMEOUT,
    "CANCEL": Status.CANCELED,
    "RERUN": Status.RUNNING,
    "SKIP": Status.SKIPPED,
}
SNAKE = re.compile(r"_([a-z])")


def camel(payload):
    """Graph keys come camelCase, snake_case or mixed across doc versions: read one way."""
    if isinstance(payload, dict):
        return {SNAKE.sub(lambda m: m.group(1).upper(), k): camel(v) for k, v in payload.items()}
    if isinstance(payload, list):
        return [camel(item) for item in payload]
    return payload


class FinishedTasks:
    """Task instance details that will not change again, shared by every poll of this
    process, newest kept (a bounded LRU)."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[tuple, dict] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> dict | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
            return self.items.get(key)

    def put(self, key: tuple, detail: dict) -> None:
        with self.lock:
            self.items[key] = detail
            self.items.move_to_end(key)
            if len(self.items) > self.size:
                self.items.popitem(last=False)


FINISHED_TASKS = FinishedTasks(size=5000)


class ApimAuth(CachedTokenAuth):
    """APIM: a cached access token (sha256 'encryption' to get it) and a per-request sha256
    signature over token, sorted query, body, timestamp and secret."""

    def __init__(self, base_url: str, app_key: str, app_secret: str):
        super().__init__()
        self.app_key, self.app_secret = app_key, app_secret
        self.token_service = VendorHTTP(base_url)  # its own retries and typed errors

    def fetch(self) -> str:
        stamp = str(int(time.time() * 1000))
        body = {
            "appKey": self.app_key,
            "timestamp": int(stamp),
            "encryption": enos_encryption(self.app_key, stamp, self.app_secret),
        }
        reply = self.token_service.json("POST", "/apim-token-service/v2.0/token/get", json=body)
        try:
            if reply.get("status", reply.get("stauts")) != 0:  # the doc sample misspells it
                raise AuthError(f"APIM token: {reply.get('status')} {reply.get('msg')}")
            return reply["data"]["accessToken"]
        except (AttributeError, KeyError, TypeError) as exc:
            raise BadPayload(f"APIM token reply unreadable: {str(reply)[:200]}") from exc

    def apply(self, request: httpx.Request, token: str) -> None:
        stamp = str(int(time.time() * 1000))
        query = dict(request.url.params.multi_items())
        request.headers["apim-accesstoken"] = token
        request.headers["apim-timestamp"] = stamp
        request.headers["apim-signature"] = enos_signature(
            token, query, request.content.decode(), stamp, self.app_secret
        )


class EnosBatchV21(Connector):
    kind = "enos_batch_v21"
    gone_codes = frozenset({62102})  # for get calls: invalid flowInstId / taskInstId
    label = "EnOS Batch Processing v2.1"
    prefix = "/batch-processing-service/v2.1"
    result_key = "code"
    task_detail = True

    def __init__(self, config):
        super().__init__(config)
        creds = config.credentials
        auth = ApimAuth(config.base_url, creds.get("app_key", ""), creds.get("app_secret", ""))
        self.http = VendorHTTP(config.base_url, auth=auth)
        self.who = {
            "orgId": config.scope.get("orgId", ""),
            "userId": config.scope.get("userId", ""),
        }

    # -- calls --------------------------------------------------------------------------------

    def call(self, method: str, resource: str, action: str, body=None, **params):
        query = {"action": action, **self.who, **params}
        content = json.dumps(body, separators=(",", ":")) if body is not None else None
        headers = {"Content-Type": "application/json"} if content else None
        response = self.http.request(
            method, f"{self.prefix}/{resource}", params=query, content=content, headers=headers
        )
        reply = parse_json(response.text)
        if not isinstance(reply, dict):
            raise BadPayload(f"{resource}?action={action}: envelope is not an object")
        code = reply.get("code", reply.get("status"))  # v2.1 says code, v2.0 says status
        if code != 0:
            raise VendorError(
                code if isinstance(code, int | str) else str(code), str(reply.get("msg", ""))[:300]
            )
        data = reply.get("data")
        return data[0] if isinstance(data, list) and len(data) == 1 else data

    def iter_pages(self, since):
        now = datetime.now(UTC)
        since = since or now - DEFAULT_WINDOW
        # the vendor's zone, read before any record: if it cannot be told, the poll fails once,
        # here, instead of every record failing (each() skips them) and asking again
        self.zone  # noqa: B018
        for flow_type in self.flow_types():
            yield from self.search(flow_type, since, now)

    def flow_types(self) -> list[int]:
        """Search takes one instance type at a time: every type unless the scope names one."""
        chosen = self.config.scope.get("flow_type")
        return FLOW_TYPES if chosen is None else [int(chosen)]

    def search(self, flow_type: int, since: datetime, now: datetime):
        base = int(self.config.scope.get("page_base", 0))
        page = 0
        while True:
            body = {
                "type": flow_type,
                "expression": "",
                "owner": "",
                "status": str(self.config.scope.get("status", "")),
                "fromTriggerTime": int(since.timestamp() * 1000),
                "toTriggerTime": int((now + FUTURE).timestamp() * 1000),
                "pagination": {"pageNo": base + page, "pageSize": PAGE_SIZE},
            }
            data = self.call("POST", "flowInstances", "search", body)
            flows = data.get("flowInsts") if isinstance(data, dict) else None
            if not isinstance(flows, list):
                raise BadPayload(f"flow search page {page} has no flowInsts list")
            if flows:
                yield self.each(lambda flow: self.flow_record(flow, with_tasks=False)[0], flows)
            if len(flows) < PAGE_SIZE:
                return
            page += 1

    def detail(self, flow_id: str) -> list[RunRecord]:
        flow = self.call("GET", "flowInstances", "get", flowInstId=flow_id)
        return self.flow_record(flow, with_tasks=True)

    def fetch_log(self, external_id, log_locator, max_bytes):
        data = self.call(
            "GET", "taskInstances", "getLog", taskInstId=log_locator, maxLength=max_bytes
        )
        log = data.get("log") if isinstance(data, dict) else None
        text = log if isinstance(log, str) else ""  # none, or not text: nothing to show
        return LogChunk(text=text, truncated=len(text.encode()) >= max_bytes)

    # -- parsing ------------------------------------------------------------------------------

    def status(self, code, name):
        return status_from(STATUS, self.kind, code, name)

    def local(self, text):
        return naive_local(text, self.zone)

    @cached_property
    def zone(self) -> str:
        """The zone of the vendor's naive times: the backend's when it names one, else the
        vendor's own (time?action=getTimeZone, "GMT+8")."""
        if self.config.timezone:
            return self.config.timezone
        reply = self.call("GET", "time", "getTimeZone")
        said = reply.get("timezone") if isinstance(reply, dict) else reply
        if (zone := gmt_zone(said)) is None:
            raise BadPayload(
                f"getTimeZone said {str(said)[:50]!r}, not GMT±N; name the "
                "backend's time zone instead"
            )
        return zone

    def flow_record(self, flow: dict, with_tasks: bool) -> list[RunRecord]:
        if not isinstance(flow, dict) or not flow.get("instanceId"):
            raise BadPayload(f"flow instance without instanceId: {str(flow)[:200]}")
        problems: list[str] = []
        graph = camel(nested_json(flow.get("graph"), problems, "graph") or {})
        status, flags = self.status(flow.get("status"), flow.get("statusDesc"))
        flow_id = str(flow["instanceId"])
        tasks = [t for t in graph.get("tasks") or [] if isinstance(t, dict)] if with_tasks else []
        node_ids = {t.get("nodeId"): str(t.get("taskInstId")) for t in tasks}
        edges = tuple(
            (node_ids[rel["source"]], node_ids[rel["target"]])
            for rel in graph.get("relations") or []
            if rel.get("source") in node_ids and rel.get("target") in node_ids
        )
        root = RunRecord(
            external_id=flow_id,
            kind=Kind.FLOW,
            name=flow.get("flowName") or flow_id,
            status=status,
            vendor_status=f"{flow.get('status')} {flow.get('statusDesc', '')}",
            definition_id=str(flow.get("flowId", "")),
            definition_name=flow.get("flowName") or "",
            flags=flags,
            planned_at=self.local(flow.get("triggerTime")),
            started_at=self.local(flow.get("startTime")),
            finished_at=self.local(flow.get("endTime")),
            owner=flow.get("owner") or flow.get("doAs") or "",
            cycle=flow.get("cycle") or "",
            business_date=_date(flow.get("calDt")),
            error_message="; ".join(problems),
            edges=edges,
            has_children=with_tasks,
            # isCancelled exists only in list entries; the status code says the same.
            raw={key: value for key, value in flow.items() if key != "isCancelled"},
        )
        return [root, *self.each(lambda task: self.task_record(task, flow_id), tasks)]

    def task_detail_of(self, node: dict) -> dict:
        """Get Task Instance, unless the task had finished when last asked and its graph
        node still says so: a running flow is read again every poll, its finished tasks not."""
        task_inst_id = str(node.get("taskInstId"))
        key = (self.config.base_url, self.who["orgId"], task_inst_id)
        known = FINISHED_TASKS.get(key)
        if known is not None and known.get("stsDesc") == node.get("status"):
            return known
        try:
            detail = self.call("GET", "taskInstances", "get", taskInstId=task_inst_id) or {}
        except VendorError as exc:  # a task gone from the vendor: what its flow's graph says
            if not self.is_gone(exc):
                raise
            return {}
        if self.status(detail.get("status"), detail.get("stsDesc"))[0].is_terminal:
            FINISHED_TASKS.put(key, detail)
        return detail

    def task_record(self, node: dict, flow_id: str) -> RunRecord:
        task_inst_id = str(node.get("taskInstId"))
        detail = self.task_detail_of(node) if self.task_detail else {}
        name = detail.get("stsDesc") or node.get("status")
        status, flags = self.status(detail.get("status"), name)
        if detail.get("isTimeout"):
            flags = (*flags, "timeout")
        return RunRecord(
            external_id=task_inst_id,
            kind=Kind.TASK,
            parent_id=flow_id,
            name=node.get("taskName") or detail.get("taskName") or task_inst_id,
            status=status,
            vendor_status=f"{detail.get('status', '')} {name}".strip(),
            definition_id=str(node.get("taskId", "")),
            definition_name=node.get("taskName") or "",
            flags=flags,
            planned_at=self.local(detail.get("triggerTime"))
            or java_date(
                detail.get("timeStamp"), self.config.scope.get("cst_zone", "Asia/Shanghai")
            ),
            started_at=self.local(detail.get("startTime")),
            finished_at=self.local(detail.get("endTime")),
            attempts=detail.get("runNum"),
            owner=detail.get("doAs") or "",
            cycle=detail.get("cycle") or "",
            log_locator=task_inst_id,
            raw={"graph_node": node, "detail": detail or None},
        )


UNESCAPED_GRAPH = re.compile(r'"graph"\s*:\s*"\{')


def parse_json(text: str):
    """JSON, tolerating the unescaped `"graph": "{"creator":…}"` that EnOS documents print
    (a real server escapes it; the fallback re-escapes by brace matching)."""
    try:
        return json.loads(text)
    except ValueError as exc:
        repaired = repair_graph(text)
        if repaired == text:
            raise BadPayload(f"body is not JSON ({exc})") from exc
        try:
            return json.loads(repaired)
        except ValueError as again:
            raise BadPayload(f"body is not JSON, even with the graph re-escaped ({again})") from exc


def repair_graph(text: str) -> str:
    for match in reversed(list(UNESCAPED_GRAPH.finditer(text))):
        start = match.end() - 1  # the graph's opening brace
        depth, end = 0, start
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        if text[end + 1 : end + 2] != '"':
            continue
        inner = text[start : end + 1]
        text = text[: start - 1] + json.dumps(inner, ensure_ascii=False) + text[end + 2 :]
    return text


def _date(text):
    try:
        return datetime.strptime(text, "%Y-%m-%d").date() if text else None
    except ValueError:
        return None


CONNECTORS = (EnosBatchV21,)

"""EnOS batch APIs behind the APIM gateway: Batch Processing v2.1 and Dataflow Batch v2.0.
Flows are listed by trigger time; their tasks come from the flow's graph (and, in v2.1, each
task's own detail); edges from graph relations."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from functools import cached_property

import httpx

from instances.connectors.acting import (
    ANSWER_KEPT,
    ENDED,
    UNFINISHED,
    Move,
    Target,
    VendorAnswer,
    VendorCall,
)
from instances.connectors.base import (
    BadPayload,
    Connector,
    LogChunk,
    RunRecord,
    VendorError,
)
from instances.connectors.http import VendorHTTP
from instances.connectors.normalize import (
    gmt_zone,
    java_date,
    naive_local,
    nested_json,
    status_from,
)
from instances.status import Kind

from .apim import ApimAuth
from .finished_tasks import FinishedTasks
from .payloads import STATUS, camel, date_of, parse_json

PAGE_SIZE = 50  # EnOS recommends at most 50 (Search Flow 3.0.0)
FLOW_TYPES = [0, 1, 2]  # manual, periodic, temporary: every kind of flow instance
DEFAULT_WINDOW = timedelta(days=2)
FUTURE = timedelta(days=1)  # trigger times a little ahead, for clock drift
FINISHED_TASKS = FinishedTasks(size=5000)


class EnosBatchV21(Connector):
    kind = "enos_batch_v21"
    gone_codes = frozenset({62102})  # for get calls: invalid flowInstId / taskInstId
    label = "EnOS Batch Processing v2.1"
    prefix = "/batch-processing-service/v2.1"
    task_detail = True
    moves = {
        "stop": Move("stop", when=UNFINISHED),
        "rerun": Move("rerun", when=ENDED, new_run=True),
        # v2.1 only: a new instance from this task down; refused twice within a minute
        "retry_step": Move("retry_step", on_step=True, new_run=True),
    }

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

    # -- acting: cancel a flow instance, trigger the flow (again, or from a task) ------------

    def call_for(self, move: Move, target: Target) -> VendorCall:
        body: dict[str, str | int]
        if move.name == "stop":
            resource, action, body = "flowInstances", "cancel", {"flowInstId": target.run_id}
        else:  # a new instance of the flow, now: all of it, or from the failed task down
            if not target.definition_id.isdigit():
                raise BadPayload(f"flowId {target.definition_id[:50]!r} is not a number")
            resource, action = "flows", "triggerFromTask" if move.on_step else "trigger"
            body = {"flowId": int(target.definition_id), "triggerTime": int(time.time() * 1000)}
            if move.on_step:
                body["taskId"] = target.step_definition_id
        params = {"action": action, **self.who}
        return VendorCall("POST", f"{self.prefix}/{resource}", params=params, body=body)

    def answer_of(self, response: httpx.Response) -> VendorAnswer:
        text = response.text[:ANSWER_KEPT]
        reply = parse_json(text) if response.content else None
        if not isinstance(reply, dict):
            return VendorAnswer(response.status_code, False, text[:300], body=text)
        code = reply.get("code", reply.get("status"))
        data = reply.get("data")
        new_run = data.get("flowInstanceId") if isinstance(data, dict) else None
        return VendorAnswer(
            response.status_code,
            response.is_success and code == 0,
            f"{code}: {reply.get('msg', '')}".strip(),
            request_id=str(reply.get("requestId") or ""),
            new_run_id=str(new_run or ""),
            body=text,
        )

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
            schedule=str(flow.get("freq") or ""),
            business_date=date_of(flow.get("calDt")),
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


CONNECTORS = (EnosBatchV21,)

"""OceanBase Cloud Platform: tasks (1-based pages, newest first), subtasks as children with
edges from upstreams/downstreams (never list order or seriesId), subtask logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote, urlsplit

import httpx

from instances.connectors.acting import ANSWER_KEPT, Move, Target, VendorAnswer, VendorCall
from instances.connectors.base import BadPayload, Connector, LogChunk, RunRecord, VendorError
from instances.connectors.http import VendorHTTP
from instances.connectors.normalize import iso, status_from
from instances.status import Kind, Status

from .signing import ocp_signature, ocp_string_to_sign

PAGE_SIZE = 100
DEFAULT_WINDOW = timedelta(days=7)
TASK_STATUS = {
    ("SUCCESSFUL", "ROLLBACK"): (Status.CANCELED, "rolled_back"),
    "SUCCESSFUL": Status.SUCCEEDED,
    "RUNNING": Status.RUNNING,
    "PENDING": Status.PENDING,
    "FAILED": Status.FAILED,
}
SUBTASK_STATUS = {
    ("SUCCESSFUL", "SKIP"): Status.SKIPPED,
    ("FAILED", "CANCEL"): Status.CANCELED,
    "SUCCESSFUL": Status.SUCCEEDED,
    "FAILED": Status.FAILED,
    "RUNNING": Status.RUNNING,
    "CANCELING": (Status.RUNNING, "canceling"),
    "PENDING": Status.PENDING,
    "READY": Status.PENDING,
}


class OcpSignature(httpx.Auth):
    """OCP access-key signature: HMAC-SHA1 over the canonical request, Base64."""

    def __init__(self, key_id: str, secret: str):
        self.key_id, self.secret = key_id, secret

    def auth_flow(self, request: httpx.Request):
        request.headers["Date"] = format_datetime(datetime.now(UTC), usegmt=True)
        url = urlsplit(str(request.url))
        to_sign = ocp_string_to_sign(
            request.method,
            request.content,
            request.headers.get("content-type", ""),
            request.headers["Date"],
            request.headers["host"],
            dict(request.headers),
            url.path,
            list(request.url.params.multi_items()),
        )
        signature = ocp_signature(self.secret, to_sign)
        request.headers["Authorization"] = f"OCP-ACCESS-KEY-HMACSHA1 {self.key_id}:{signature}"
        yield request


class OcpConnector(Connector):
    kind = "ocp"
    gone_codes = frozenset({20000, 10002})  # task not exists, subtask instance not found
    label = "OceanBase OCP"
    moves = {
        "retry": Move("retry"),  # the task's failed subtasks, same task id
        "rollback": Move("rollback", careful=True),  # undoes cluster operations
        "retry_step": Move("retry_step", on_step=True),
        "skip_step": Move("skip_step", on_step=True, careful=True),  # marked successful
        "cancel_step": Move("cancel_step", on_step=True, when=frozenset({Status.RUNNING})),
    }

    def __init__(self, config):
        super().__init__(config)
        creds = config.credentials
        auth: httpx.Auth = (
            OcpSignature(creds["access_key_id"], creds["access_key_secret"])
            if creds.get("access_key_id")
            else httpx.BasicAuth(creds.get("username", ""), creds.get("password", ""))
        )
        self.http = VendorHTTP(config.base_url, auth=auth)

    def data(self, path: str, **params):
        body = self.http.json("GET", path, params=params or None)
        if not isinstance(body, dict) or body.get("successful") is not True:
            error = (body.get("error") or {}) if isinstance(body, dict) else {}
            raise VendorError(error.get("code", "?"), error.get("message", str(body)[:300]))
        return body.get("data")

    def iter_pages(self, since):
        since = since or datetime.now(UTC) - DEFAULT_WINDOW
        filters = {k: v for k, v in self.config.scope.items() if k in ("type", "status", "name")}
        page = 1
        while True:
            data = self.data(
                "/api/v2/tasks/instances", page=page, size=PAGE_SIZE, sort="id,desc", **filters
            )
            try:
                contents, pages = data["contents"], data["page"]["totalPages"]
            except (TypeError, KeyError) as exc:
                raise BadPayload(f"task list page {page} lacks {exc}") from exc
            records = self.each(task_record, contents)
            fresh = [r for r in records if (r.planned_at or r.started_at or since) >= since]
            if fresh:
                yield fresh
            if len(fresh) < len(records) or page >= pages:  # newest first: older ones follow
                return
            page += 1

    def detail(self, task_id: str) -> list[RunRecord]:
        data = self.data(f"/api/v2/tasks/instances/{task_id}")
        subtasks = data.get("subtasks") or []
        edges = set()
        for sub in subtasks:
            edges |= {(str(up), str(sub["id"])) for up in sub.get("upstreams") or []}
            edges |= {(str(sub["id"]), str(down)) for down in sub.get("downstreams") or []}
        children = self.each(lambda sub: subtask_record(sub, str(data["id"])), subtasks)
        return [task_record(data, edges=tuple(sorted(edges)), has_children=True), *children]

    # -- acting: retry or roll back a task, retry, skip or cancel a subtask (TASK_MANAGER) -----

    def call_for(self, move: Move, target: Target) -> VendorCall:
        task = f"/api/v2/tasks/instances/{quote(target.run_id, safe='')}"
        if move.on_step:
            verb = move.name.removesuffix("_step")  # retry, skip, cancel
            return VendorCall("POST", f"{task}/subtasks/{quote(target.step_id, safe='')}/{verb}")
        return VendorCall("POST", f"{task}/{move.name}")

    def answer_of(self, response: httpx.Response) -> VendorAnswer:
        text = response.text[:ANSWER_KEPT]
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return VendorAnswer(response.status_code, False, text[:300], body=text)
        error = found if isinstance(found := body.get("error"), dict) else {}
        message = " ".join(str(error.get(k, "")) for k in ("code", "message")).strip()
        return VendorAnswer(
            response.status_code,
            response.is_success and body.get("successful") is True,
            message,
            request_id=str(body.get("traceId") or ""),
            body=text,
        )

    def fetch_log(self, external_id, log_locator, max_bytes):
        text = self.data(f"/api/v2/tasks/instances/{log_locator}/log")["log"] or ""
        encoded = text.encode()
        tail = encoded[-max_bytes:].decode(errors="ignore")
        return LogChunk(text=tail, truncated=len(encoded) > max_bytes)


def task_record(item: dict, edges=(), has_children=False) -> RunRecord:
    status, flags = status_from(
        TASK_STATUS, "ocp", (item.get("status"), item.get("operation")), item.get("status")
    )
    creator = item.get("creator") or {}
    return RunRecord(
        external_id=str(item["id"]),
        kind=Kind.TASK,
        name=item.get("name") or str(item["id"]),
        status=status,
        vendor_status=f"{item.get('status')} ({item.get('operation', '')})",
        definition_id=definition_of(item),
        definition_name=item.get("name") or "",
        flags=flags,
        planned_at=iso(item.get("createTime")),
        started_at=iso(item.get("startTime")),
        finished_at=iso(item.get("finishTime")),
        owner=creator.get("name") or "",
        executor=item.get("executor") or "",
        edges=edges,
        has_children=has_children,
        raw={key: value for key, value in item.items() if key != "subtasks"},  # kept per subtask
    )


def definition_of(task: dict) -> str:
    """taskDefinitionId, except -1, which every ad-hoc (manual) task carries: those are told
    apart by name, so one manual task's failures never mix with another's."""
    definition = task.get("taskDefinitionId", "")
    return f"manual:{task.get('name') or ''}" if str(definition) == "-1" else str(definition)


def subtask_record(sub: dict, task_id: str) -> RunRecord:
    status, flags = status_from(
        SUBTASK_STATUS, "ocp", (sub.get("status"), sub.get("operation")), sub.get("status")
    )
    return RunRecord(
        external_id=str(sub["id"]),
        kind=Kind.SUBTASK,
        name=sub.get("name") or str(sub["id"]),
        status=status,
        vendor_status=f"{sub.get('status')} ({sub.get('operation', '')})",
        parent_id=task_id,
        definition_id=sub.get("name") or "",
        definition_name=sub.get("description") or "",
        flags=flags,
        planned_at=iso(sub.get("createTime")),
        started_at=iso(sub.get("startTime")),
        finished_at=iso(sub.get("finishTime")),
        attempts=sub.get("runTime"),
        executor=sub.get("executor") or "",
        log_locator=f"{task_id}/subtasks/{sub['id']}",
        raw=sub,
    )


CONNECTORS = (OcpConnector,)

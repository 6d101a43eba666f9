"""Apache Airflow 2, stable REST API (/api/v1): DAG runs as flows, their task instances as
children, edges from the DAG's tasks (downstream_task_ids), task logs as plain text. Basic
auth (Airflow's basic_auth backend), or a bearer token for managed Airflow."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx

from instances.connectors.base import (
    BadPayload,
    Connector,
    LogChunk,
    RunRecord,
    VendorError,
    offset_pages,
)
from instances.connectors.http import VendorHTTP
from instances.connectors.normalize import iso, status_from
from instances.status import Kind, Status

PAGE_SIZE = 100  # the API's default maximum_page_limit
DEFAULT_WINDOW = timedelta(days=7)
RUN_STATE = {
    "queued": Status.PENDING,
    "running": Status.RUNNING,
    "success": Status.SUCCEEDED,
    "failed": Status.FAILED,
}
TASK_STATE = {
    None: Status.PENDING,
    "none": Status.PENDING,
    "null": Status.PENDING,
    "scheduled": Status.PENDING,
    "queued": Status.PENDING,
    "running": Status.RUNNING,
    "restarting": (Status.RUNNING, "restarting"),
    "deferred": (Status.RUNNING, "deferred"),
    "up_for_retry": (Status.RUNNING, "retrying"),
    "up_for_reschedule": (Status.RUNNING, "rescheduled"),
    "success": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "upstream_failed": (Status.SKIPPED, "upstream_failed"),
    "skipped": Status.SKIPPED,
    "removed": (Status.CANCELED, "removed"),
}


class Bearer(httpx.Auth):
    def __init__(self, token: str):
        self.token = token

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class AirflowConnector(Connector):
    kind = "airflow"
    label = "Apache Airflow 2"
    gone_codes = frozenset({404})  # DAGRun not found: deleted, or its DAG was

    def __init__(self, config):
        super().__init__(config)
        creds = config.credentials
        auth: httpx.Auth = (
            Bearer(creds["token"])
            if creds.get("token")
            else httpx.BasicAuth(creds.get("username", ""), creds.get("password", ""))
        )
        self.http = VendorHTTP(config.base_url, auth=auth)
        self.tasks: dict[str, list[dict]] = {}  # dag_id → its tasks, read once per poll
        self.tasks_lock = threading.Lock()

    def get(self, path: str, **params):
        response = self.http.request("GET", f"/api/v1/{path}", params=params or None)
        try:
            body = response.json()
        except ValueError as exc:
            raise BadPayload(f"GET {path}: body is not JSON ({exc})") from exc
        if response.status_code >= 400:
            detail = body.get("detail") or body.get("title") if isinstance(body, dict) else body
            raise VendorError(response.status_code, str(detail)[:300])
        if not isinstance(body, dict):
            raise BadPayload(f"GET {path}: reply is not an object")
        return body

    def iter_pages(self, since):
        since = since or datetime.now(UTC) - DEFAULT_WINDOW
        dag = quote(str(self.config.scope.get("dag_id", "~")), safe="~")

        def fetch(offset: int, limit: int) -> tuple[list, int]:
            body = self.get(
                f"dags/{dag}/dagRuns",
                updated_at_gte=since.isoformat(),
                order_by="id",
                offset=offset,
                limit=limit,
            )
            return body.get("dag_runs"), int(body.get("total_entries") or 0)

        for items in offset_pages(fetch, PAGE_SIZE):
            yield self.each(dag_run_record, items)

    def detail(self, external_id: str) -> list[RunRecord]:
        dag_id, run_id = external_id.split("/", 1)
        path = f"dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}"
        run = self.get(path)

        def fetch(offset: int, limit: int) -> tuple[list, int]:
            body = self.get(f"{path}/taskInstances", offset=offset, limit=limit)
            return body.get("task_instances"), int(body.get("total_entries") or 0)

        instances = [item for page in offset_pages(fetch, PAGE_SIZE) for item in page]
        tasks = self.dag_tasks(dag_id)
        children = self.each(lambda item: task_record(item, external_id), instances)
        present = {child.external_id for child in children}
        edges = {
            (f"{external_id}/{task['task_id']}", f"{external_id}/{down}")
            for task in tasks
            for down in task.get("downstream_task_ids") or []
        }
        owner = next((str(task["owner"]) for task in tasks if task.get("owner")), "")
        edges = {edge for edge in edges if set(edge) <= present}
        record = dag_run_record(run, owner=owner, has_children=True, edges=tuple(sorted(edges)))
        return [record, *children]

    def dag_tasks(self, dag_id: str) -> list[dict]:
        with self.tasks_lock:
            if dag_id not in self.tasks:
                found = self.get(f"dags/{quote(dag_id)}/tasks").get("tasks")
                self.tasks[dag_id] = [t for t in found or [] if isinstance(t, dict)]
            return self.tasks[dag_id]

    def fetch_log(self, external_id, log_locator, max_bytes):
        response = self.http.request(
            "GET",
            f"/api/v1/dags/{log_locator}",
            params={"full_content": "true"},
            headers={"Accept": "text/plain"},
        )
        if response.status_code >= 400:
            raise VendorError(response.status_code, response.text[:300])
        encoded = response.content
        return LogChunk(
            text=encoded[-max_bytes:].decode(errors="replace"), truncated=len(encoded) > max_bytes
        )


def dag_run_record(item: dict, owner: str = "", edges=(), has_children=False) -> RunRecord:
    dag_id, run_id = item["dag_id"], item["dag_run_id"]
    if not isinstance(dag_id, str) or not isinstance(run_id, str):
        raise BadPayload("dag_id and dag_run_id must be strings")
    status, flags = status_from(RUN_STATE, "airflow", item.get("state"))
    planned = iso(item.get("logical_date") or item.get("execution_date"))
    return RunRecord(
        external_id=f"{dag_id}/{run_id}",
        kind=Kind.FLOW,
        name=dag_id,
        status=status,
        vendor_status=str(item.get("state")),
        definition_id=dag_id,
        definition_name=dag_id,
        flags=flags + (("manual",) if item.get("external_trigger") else ()),
        planned_at=planned,
        started_at=iso(item.get("start_date")),
        finished_at=iso(item.get("end_date")),
        owner=owner,
        cycle=str(item.get("run_type") or ""),
        edges=edges,
        has_children=has_children,
        raw=item,
    )


def task_record(item: dict, parent_id: str) -> RunRecord:
    task_id = item["task_id"]
    if not isinstance(task_id, str):
        raise BadPayload("task_id must be a string")
    mapped = item.get("map_index", -1)
    external_id = f"{parent_id}/{task_id}" + (f"[{mapped}]" if mapped not in (-1, None) else "")
    status, flags = status_from(TASK_STATE, "airflow", item.get("state"))
    tries = item.get("try_number") or 0
    duration = item.get("duration")
    dag_id, run_id = parent_id.split("/", 1)
    locator = (
        f"{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}/taskInstances/"
        f"{quote(task_id)}/logs/{tries}"
    )
    return RunRecord(
        external_id=external_id,
        kind=Kind.TASK,
        name=item.get("task_display_name") or task_id,
        status=status,
        vendor_status=str(item.get("state")),
        parent_id=parent_id,
        definition_id=task_id,
        definition_name=item.get("operator") or "",
        flags=flags,
        started_at=iso(item.get("start_date")),
        finished_at=iso(item.get("end_date")),
        duration=timedelta(seconds=float(duration)) if duration is not None else None,
        attempts=tries or None,
        executor=item.get("hostname") or "",
        log_locator=locator if tries else "",
        raw=item,
    )


CONNECTORS = (AirflowConnector,)

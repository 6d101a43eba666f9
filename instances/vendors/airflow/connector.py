"""Apache Airflow 2 (/api/v1) and 3 (/api/v2), one connector: DAG runs as flows, their task
instances as children (a mapped task's as `task[i]`), edges from the DAG's tasks
(downstream_task_ids, spread over mapped children), task logs per try. Which API a server
speaks is probed (`/api/v2/version`) unless the backend's scope says (`api_version`)."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from instances import errors
from instances.connectors.base import (
    BadPayload,
    Connector,
    EarlierTry,
    LogChunk,
    RunRecord,
    VendorError,
    offset_pages,
)
from instances.connectors.http import VendorHTTP
from instances.connectors.normalize import iso, status_from
from instances.status import Kind, Status

from .auth import auth_for

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the API's default maximum_page_limit
DEFAULT_WINDOW = timedelta(days=7)
LOG_PAGES = 20  # continuation tokens followed at most for one structured log
RUN_STATE = {
    "queued": Status.PENDING,
    "running": Status.RUNNING,
    "success": Status.SUCCEEDED,
    "failed": Status.FAILED,
}
TASK_STATE = {
    "none": (Status.PENDING, "no_status"),  # created, not yet scheduled (state null)
    "scheduled": Status.PENDING,
    "queued": Status.PENDING,
    "running": Status.RUNNING,
    "restarting": (Status.RUNNING, "restarting"),
    "deferred": (Status.RUNNING, "deferred"),
    "awaiting_input": (Status.RUNNING, "awaiting_input"),
    "up_for_retry": (Status.RUNNING, "retrying"),
    "up_for_reschedule": (Status.RUNNING, "rescheduled"),
    "success": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "upstream_failed": (Status.SKIPPED, "upstream_failed"),
    "skipped": Status.SKIPPED,
    "removed": (Status.CANCELED, "removed"),
}
# run_type → flag; scheduled runs carry none
RUN_TYPE_FLAG = {"manual": "manual", "backfill": "backfill", "asset_triggered": "asset_triggered"}


class AirflowConnector(Connector):
    kind = "airflow"
    label = "Apache Airflow"
    gone_codes = frozenset({404})  # DAGRun not found: deleted, or its DAG was

    def __init__(self, config):
        super().__init__(config)
        self.lock = threading.Lock()
        self.api = str(config.scope.get("api_version") or "")  # "v1", "v2", "": probe
        self.http: VendorHTTP | None = None
        self.dags: dict[str, tuple[dict, list[dict]]] = {}  # dag_id → (DAG, tasks), per poll

    def client(self) -> VendorHTTP:
        with self.lock:
            if self.http is None:
                self.api = self.api or probe(self.config.base_url)
                auth = auth_for(self.api, self.config.base_url, self.config.credentials)
                self.http = VendorHTTP(self.config.base_url, auth=auth)
            return self.http

    def get(self, path: str, **params):
        response = self.client().request("GET", f"/api/{self.api}/{path}", params=params or None)
        try:
            body = response.json()
        except ValueError as exc:
            raise BadPayload(f"GET {path}: body is not JSON ({exc})") from exc
        if response.status_code >= 400:
            raise VendorError(response.status_code, said(body))
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
        dag, tasks = self.dag(dag_id)
        owners = {str(t["task_id"]): str(t.get("owner") or "") for t in tasks}
        children = self.each(lambda item: task_record(item, external_id, owners), instances)
        children = [self.with_tries(path, c) if (c.attempts or 0) > 1 else c for c in children]
        record = dag_run_record(
            run, dag=dag, has_children=True, edges=spread_edges(tasks, children, external_id)
        )
        return [record, *children]

    def with_tries(self, run_path: str, step: RunRecord) -> RunRecord:
        """A task on its second try or later, with its earlier tries (Airflow 2.10 and 3)."""
        mapped = found if isinstance(found := step.raw.get("map_index"), int) else -1
        task = f"{run_path}/taskInstances/{quote(step.definition_id)}"
        try:
            body = self.get(f"{task}/{mapped}/tries" if mapped >= 0 else f"{task}/tries")
        except VendorError as exc:  # an Airflow before 2.10 lists no tries: the step as it is
            log.info("%s: no tries of %s: %s", self.config.name, step.external_id, exc)
            return step
        dag_id, run_id = step.parent_id.split("/", 1) if step.parent_id else ("", "")
        earlier = []
        for item in body.get("task_instances") or []:
            number = item.get("try_number") if isinstance(item, dict) else None
            if type(number) is int and 0 < number < (step.attempts or 0):
                earlier.append(
                    EarlierTry(
                        number=number,
                        status=task_status(item.get("state"))[0],
                        started_at=iso(item.get("start_date")),
                        finished_at=iso(item.get("end_date")),
                        log_locator=locator(dag_id, run_id, step.definition_id, number, mapped),
                    )
                )
        return replace(step, tries=tuple(sorted(earlier, key=lambda t: t.number)))

    def dag(self, dag_id: str) -> tuple[dict, list[dict]]:
        """The DAG (its display name, owners, schedule) and its tasks, read once a poll."""
        with self.lock:
            known = self.dags.get(dag_id)
        if known is None:
            dag = self.get(f"dags/{quote(dag_id)}")
            found = self.get(f"dags/{quote(dag_id)}/tasks").get("tasks")
            known = dag, [t for t in found or [] if isinstance(t, dict) and "task_id" in t]
            with self.lock:
                self.dags[dag_id] = known
        return known

    def fetch_log(self, external_id, log_locator, max_bytes):
        http = self.client()
        path, _, query = log_locator.partition("?")
        url = f"/api/{self.api}/dags/{path}"
        params = {"full_content": "true", **dict(p.split("=", 1) for p in query.split("&") if p)}
        if self.api == "v1":
            response = http.request("GET", url, params=params, headers={"Accept": "text/plain"})
            if response.status_code >= 400:
                raise VendorError(response.status_code, response.text[:300])
            encoded = response.content
        else:
            encoded = self.structured_log(url, params).encode()
        return LogChunk(
            text=encoded[-max_bytes:].decode(errors="replace"), truncated=len(encoded) > max_bytes
        )

    def structured_log(self, url: str, params: dict) -> str:
        """Airflow 3's JSON log (StructuredLogMessage lines), paged by continuation_token, as
        the text its UI shows."""
        lines: list[str] = []
        for _ in range(LOG_PAGES):
            response = self.client().request(
                "GET", url, params=params, headers={"Accept": "application/json"}
            )
            try:
                body = response.json()
            except ValueError as exc:
                raise BadPayload(f"log: body is not JSON ({exc})") from exc
            if response.status_code >= 400:
                raise VendorError(response.status_code, said(body))
            content = body.get("content") if isinstance(body, dict) else None
            lines += [log_line(m) for m in content or [] if isinstance(m, dict)]
            token = body.get("continuation_token")
            if not content or not token or token == params.get("token"):
                break
            params = {**params, "token": token}
        return "\n".join(lines) + "\n"

    def error_in_log(self, text: str) -> str:
        """A Python task's error is its traceback's exception line; the ERROR and INFO lines
        around it only say that it failed."""
        return errors.python_exception(text) or super().error_in_log(text)


def probe(base_url: str) -> str:
    """ "v2" for Airflow 3 (its version endpoint needs no sign-in), else "v1"."""
    prober = VendorHTTP(base_url)
    try:
        return "v1" if prober.request("GET", "/api/v2/version").status_code == 404 else "v2"
    finally:
        prober.close()


def said(body) -> str:
    """Airflow's own words for an error, whichever field carries them: `detail` (a string, or
    422's list of validation errors), `title`, or `error` (Airflow 3's answer on /api/v1)."""
    if not isinstance(body, dict):
        return str(body)[:300]
    detail = body.get("detail") or body.get("title") or body.get("error") or body
    if isinstance(detail, list):
        detail = "; ".join(
            f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" if isinstance(d, dict) else d
            for d in detail
        )
    return (detail if isinstance(detail, str) else json.dumps(detail))[:300]


def log_line(message: dict) -> str:
    """One structured log message as Airflow's UI prints it; an error's exception as Python
    would print it, so the error line reads the same in both majors."""
    level = str(message.get("level") or "").upper()
    stamp = f"[{message['timestamp']}] " if message.get("timestamp") else ""
    text = f"{stamp}{level + ' - ' if level else ''}{message.get('event', '')}"
    for exc in message.get("error_detail") or []:
        if isinstance(exc, dict):
            frames = [
                f'  File "{f.get("filename")}", line {f.get("lineno")}, in {f.get("name")}'
                for f in exc.get("frames") or []
                if isinstance(f, dict)
            ]
            raised = f"{exc.get('exc_type')}: {exc.get('exc_value')}"
            text += "\n".join(["", "Traceback (most recent call last):", *frames, raised])
    return text


def spread_edges(tasks: list[dict], children: list[RunRecord], run_id: str):
    """The DAG's task edges between stored children: a mapped task's edges go to (and from)
    every one of its mapped instances."""
    by_task: dict[str, list[str]] = {}
    for child in children:
        by_task.setdefault(child.definition_id, []).append(child.external_id)
    return tuple(
        sorted(
            (up, down)
            for task in tasks
            for downstream in task.get("downstream_task_ids") or []
            for up in by_task.get(str(task["task_id"]), [])
            for down in by_task.get(str(downstream), [])
        )
    )


def dag_run_record(item: dict, dag: dict | None = None, edges=(), has_children=False):
    dag_id, run_id = item["dag_id"], item["dag_run_id"]
    if not isinstance(dag_id, str) or not isinstance(run_id, str):
        raise BadPayload("dag_id and dag_run_id must be strings")
    dag = dag or {}
    status, flags = status_from(RUN_STATE, "airflow", item.get("state"))
    run_type = str(item.get("run_type") or "")
    if flag := RUN_TYPE_FLAG.get(run_type) or ("manual" if item.get("external_trigger") else ""):
        flags += (flag,)
    # Airflow 3: a manual run has no logical date; run_after is when it was due
    planned = iso(item.get("logical_date") or item.get("execution_date") or item.get("run_after"))
    schedule = dag.get("timetable_summary") or dag.get("schedule_interval") or ""
    if isinstance(schedule, dict):  # Airflow 2: {"__type": "CronExpression", "value": …}
        schedule = schedule.get("value") or ""
    return RunRecord(
        external_id=f"{dag_id}/{run_id}",
        kind=Kind.FLOW,
        name=str(item.get("dag_display_name") or dag.get("dag_display_name") or dag_id),
        status=status,
        vendor_status=str(item.get("state")),
        definition_id=dag_id,
        definition_name=dag_id,
        flags=flags,
        planned_at=planned,
        started_at=iso(item.get("start_date")),
        finished_at=iso(item.get("end_date")),
        owner=", ".join(map(str, dag.get("owners") or [])),
        cycle=str(schedule)[:20],
        edges=edges,
        has_children=has_children,
        raw=item,
    )


def task_record(item: dict, parent_id: str, owners: dict[str, str]) -> RunRecord:
    task_id = item["task_id"]
    if not isinstance(task_id, str):
        raise BadPayload("task_id must be a string")
    mapped = item.get("map_index")
    mapped = mapped if isinstance(mapped, int) and mapped >= 0 else None
    state = item.get("state")
    status, flags = task_status(state)
    tries = item.get("try_number") or 0
    duration = item.get("duration")
    name = str(item.get("task_display_name") or task_id)
    if mapped is not None:
        name += f"[{item.get('rendered_map_index') or mapped}]"
    dag_id, run_id = parent_id.split("/", 1)
    return RunRecord(
        external_id=f"{parent_id}/{task_id}" + (f"[{mapped}]" if mapped is not None else ""),
        kind=Kind.TASK,
        name=name,
        status=status,
        vendor_status="none" if state is None else str(state),
        parent_id=parent_id,
        definition_id=task_id,
        definition_name=str(item.get("operator_name") or item.get("operator") or ""),
        flags=flags,
        started_at=iso(item.get("start_date")),
        finished_at=iso(item.get("end_date")),
        duration=timedelta(seconds=float(duration)) if duration is not None else None,
        attempts=tries or None,
        owner=owners.get(task_id, ""),
        executor=item.get("hostname") or "",
        log_locator=(
            locator(dag_id, run_id, task_id, tries, -1 if mapped is None else mapped)
            if tries and item.get("start_date")
            else ""
        ),
        raw=item,
    )


def task_status(state) -> tuple[Status, tuple[str, ...]]:
    return status_from(TASK_STATE, "airflow", "none" if state is None else state)


def locator(dag_id: str, run_id: str, task_id: str, try_number: int, mapped: int) -> str:
    """Where one try's log is, below /api/vN/dags/."""
    path = (
        f"{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}/taskInstances/"
        f"{quote(task_id)}/logs/{try_number}"
    )
    return path + (f"?map_index={mapped}" if mapped >= 0 else "")


CONNECTORS = (AirflowConnector,)

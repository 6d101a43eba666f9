"""Airflow's answers as Runboard reads them, in both majors: DAG runs and task instances as
records, the DAG's edges spread over mapped tasks, structured log messages as text, and
Airflow's own words for an error."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

from instances.connectors.base import BadPayload, RunRecord
from instances.connectors.normalize import iso, status_from
from instances.status import Kind, Status

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


def spread_edges(tasks: list[dict], children: list[RunRecord]):
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
        owner=owners_of(dag.get("owners")),
        cycle=str(schedule)[:20],
        schedule=str(schedule),
        edges=edges,
        has_children=has_children,
        raw=item,
    )


def owners_of(owners) -> str:
    """A DAG's owners as one line (Airflow 2 splits its `owner` at commas, spaces kept)."""
    if not isinstance(owners, list):
        return str(owners or "")
    return ", ".join(dict.fromkeys(str(owner).strip() for owner in owners if owner))


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

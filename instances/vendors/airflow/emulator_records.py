"""Airflow's REST records as the emulator renders them from the scenario: DAGs, DAG runs, task
instances and tasks, in Airflow 2's shapes (as apache-airflow-client 2.10 reads them;
Airflow 3's are emulator_records_v2's)."""

from datetime import UTC, datetime

from instances.emulator import scenario as sc

RUN_STATE = {
    sc.PENDING: "queued",
    sc.RUNNING: "running",
    sc.SUCCEEDED: "success",
    sc.SKIPPED: "success",
    sc.FAILED: "failed",
    sc.TIMEOUT: "failed",
    sc.CANCELED: "failed",
}


TASK_STATE = {
    sc.PENDING: None,
    sc.RUNNING: "running",
    sc.SUCCEEDED: "success",
    sc.FAILED: "failed",
    sc.TIMEOUT: "failed",
    sc.CANCELED: "removed",
}


def dag_id(run: sc.Run) -> str:
    """Airflow ids are [A-Za-z0-9_.-]: the definition's id, named as a DAG file would be."""
    return f"etl_{run.definition_id}"


def manual(run: sc.Run) -> bool:
    """Some runs were triggered by hand (from the UI or the API), not by the schedule."""
    return run.triggered or run.seq % 11 == 0


def run_id(run: sc.Run) -> str:
    return run.given_id or f"{'manual' if manual(run) else 'scheduled'}__{stamp(run.planned)}"


def note(run: sc.Run) -> str | None:
    return "rerun by on-call after the upstream fix" if manual(run) else None


def task_id(n: int) -> str:
    return f"step_{n:03d}"


def stamp(moment: datetime | None) -> str | None:
    """Airflow's times (and its run ids): ISO 8601 in UTC, +00:00, a fraction only if any."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def updated_at(run: sc.Run, now: datetime) -> datetime:
    """The last moment anything in the run changed: its creation, a step starting or ending,
    its retry (and the retry's end), or its stop."""
    moments = [run.planned] + [t for s in run.steps for t in (s.start, s.end) if t <= now]
    afterlife = [run.stopped_at]
    if run.retried_at:
        afterlife += [run.retried_at, run.retried_at + run.rerun_for]
    return max(moments + [t for t in afterlife if t and t <= now])


def dag_run(run: sc.Run, now: datetime) -> dict:
    state = RUN_STATE[run.status(now)]
    started = run.start if state != "queued" else None
    return {
        "conf": {},
        "dag_id": dag_id(run),
        "dag_run_id": run_id(run),
        "data_interval_end": stamp(run.planned),
        "data_interval_start": stamp(run.planned - run.period),
        "end_date": stamp(run.finished_at(now)),
        "execution_date": stamp(run.planned),
        "external_trigger": manual(run),
        "last_scheduling_decision": stamp(updated_at(run, now)),
        "logical_date": stamp(run.planned),
        "note": note(run),
        "run_type": "manual" if manual(run) else "scheduled",
        "start_date": stamp(started),
        "state": state,
    }


def task_state(run: sc.Run, step: sc.Step, now: datetime) -> str | None:
    status = step.status(now, run)
    if status == sc.SKIPPED:  # after a failure upstream, or skipped by a branch
        failed = any(s.outcome in (sc.FAILED, sc.TIMEOUT) for s in run.steps)
        return "upstream_failed" if failed else "skipped"
    if status == sc.FAILED and step.attempts > 1 and now < step.end:
        return "up_for_retry"
    return TASK_STATE[status]


def task_instance(run: sc.Run, n: int, step: sc.Step, now: datetime) -> dict:
    state = task_state(run, step, now)
    began = step.start if state not in (None, "upstream_failed") else None
    ended = step.end if state in ("success", "failed", "skipped", "upstream_failed") else None
    return {
        "dag_id": dag_id(run),
        "dag_run_id": run_id(run),
        "task_id": task_id(n),
        "task_display_name": step.name,
        "map_index": -1,
        "rendered_map_index": None,
        "execution_date": stamp(run.planned),
        "start_date": stamp(began),
        "end_date": stamp(ended),
        "duration": (step.end - step.start).total_seconds() if ended else None,
        "state": state,
        "try_number": step.tries(now, run) if began else 0,
        "max_tries": 1,
        "hostname": "airflow-worker-0" if began else "",
        "unixname": "airflow",
        "pool": "default_pool",
        "pool_slots": 1,
        "queue": "default",
        "priority_weight": len(run.steps) - n,
        "operator": "SparkSubmitOperator",
        "queued_when": stamp(began),
        "pid": None,
        "executor": None,
        "executor_config": "{}",
        "sla_miss": None,
        "note": None,
        "rendered_fields": {},
        "trigger": None,
        "triggerer_job": None,
    }


def task(run: sc.Run, n: int, downstream: list[str]) -> dict:
    step = run.steps[n]
    return {
        "task_id": task_id(n),
        "task_display_name": step.name,
        "owner": run.owner,
        "start_date": stamp(run.planned),
        "end_date": None,
        "trigger_rule": "all_success",
        "extra_links": [],
        "depends_on_past": False,
        "is_mapped": False,
        "wait_for_downstream": False,
        "retries": 1.0,
        "queue": "default",
        "pool": "default_pool",
        "pool_slots": 1.0,
        "execution_timeout": None,
        "retry_delay": {"__type": "TimeDelta", "days": 0, "seconds": 300, "microseconds": 0},
        "retry_exponential_backoff": False,
        "priority_weight": 1.0,
        "weight_rule": "downstream",
        "ui_color": "#fff",
        "ui_fgcolor": "#000",
        "template_fields": [],
        "downstream_task_ids": downstream,
        "class_ref": {
            "module_path": "airflow.providers.apache.spark.operators.spark_submit",
            "class_name": "SparkSubmitOperator",
        },
        "doc_md": None,
        "operator_name": "SparkSubmitOperator",
        "params": {},
    }


def dag(run: sc.Run) -> dict:
    """The DAG a run belongs to, as Airflow 2 describes it."""
    return {
        "dag_id": dag_id(run),
        "dag_display_name": run.definition_name,
        "default_view": "grid",
        "description": None,
        "file_token": "Ii9vcHQvYWlyZmxvdy9kYWdzL2V0bC5weSI",
        "fileloc": "/opt/airflow/dags/etl.py",
        "has_import_errors": False,
        "has_task_concurrency_limits": False,
        "is_active": True,
        "is_paused": False,
        "is_subdag": False,
        "last_expired": None,
        "last_parsed_time": stamp(run.planned),
        "last_pickled": None,
        "max_active_runs": 16,
        "max_active_tasks": 16,
        "max_consecutive_failed_dag_runs": 0,
        "next_dagrun": None,
        "next_dagrun_create_after": None,
        "next_dagrun_data_interval_end": None,
        "next_dagrun_data_interval_start": None,
        "owners": [run.owner],
        "pickle_id": None,
        "root_dag_id": None,
        "schedule_interval": {"__type": "CronExpression", "value": cron(run)},
        "scheduler_lock": None,
        "tags": [{"name": "etl"}],
        "timetable_description": f"every {run.period}",
    }


def cron(run: sc.Run) -> str:
    minutes = int(run.period.total_seconds() // 60)
    return f"*/{minutes} * * * *" if minutes < 60 else f"0 */{max(minutes // 60, 1)} * * *"

"""Airflow 3's REST records (/api/v2) as the emulator renders them: Airflow 2's (emulator_records),
renamed and regrouped as a real Airflow 3.3 answers (tests/real_airflow diffs their field
sets)."""

from datetime import datetime

from instances.emulator import scenario as sc

from .emulator_records import cron, dag, dag_id, dag_run, manual, stamp, task_instance


def dag_version(run: sc.Run) -> dict:
    return {
        "id": f"01a24b38-e92a-7e8f-b34d-{run.seq % 10**12:012d}",
        "version_number": 1,
        "dag_id": dag_id(run),
        "bundle_name": "dags-folder",
        "bundle_version": None,
        "created_at": stamp(run.planned),
        "dag_display_name": run.definition_name,
        "bundle_url": None,
    }


def dag_run_v2(run: sc.Run, now: datetime) -> dict:
    old = dag_run(run, now)
    by_hand = manual(run)
    start, end = old["start_date"], old["end_date"]
    finished = run.finished_at(now)
    return {
        "dag_run_id": old["dag_run_id"],
        "dag_id": old["dag_id"],
        "logical_date": None if by_hand else old["logical_date"],  # none for manual runs
        "queued_at": stamp(run.planned),
        "start_date": start,
        "end_date": end,
        "duration": (finished - run.start).total_seconds() if finished else None,
        "data_interval_start": None if by_hand else old["data_interval_start"],
        "data_interval_end": None if by_hand else old["data_interval_end"],
        "run_after": stamp(run.planned),
        "last_scheduling_decision": old["last_scheduling_decision"],
        "run_type": old["run_type"],
        "state": old["state"],
        "triggered_by": "rest_api" if by_hand else "timetable",
        "triggering_user_name": "admin" if by_hand else None,
        "conf": {},
        "note": old["note"],
        "dag_versions": [dag_version(run)],
        "bundle_version": None,
        "dag_display_name": run.definition_name,
        "partition_key": None,
        "partition_date": None,
    }


def task_instance_v2(run: sc.Run, n: int, step: sc.Step, now: datetime) -> dict:
    old = task_instance(run, n, step, now)
    for gone in ("execution_date", "sla_miss"):
        del old[gone]
    return old | {
        "id": f"01a24b39-0978-74b0-{n:04d}-{run.seq % 10**12:012d}",
        "logical_date": None if manual(run) else stamp(run.planned),
        "run_after": stamp(run.planned),
        "dag_display_name": run.definition_name,
        "operator_name": old["operator"],
        "scheduled_when": old["queued_when"],
        "dag_version": dag_version(run),
    }


def dag_v2(run: sc.Run) -> dict:
    old = dag(run)
    for gone in (
        "default_view",
        "is_active",
        "is_subdag",
        "last_pickled",
        "next_dagrun",
        "next_dagrun_create_after",
        "pickle_id",
        "root_dag_id",
        "schedule_interval",
        "scheduler_lock",
    ):
        del old[gone]
    return old | {
        "is_stale": False,
        "last_parse_duration": 0.25,
        "bundle_name": "dags-folder",
        "bundle_version": None,
        "relative_fileloc": "etl.py",
        "timetable_summary": cron(run),
        "timetable_partitioned": False,
        "timetable_periodic": True,
        "tags": [{"name": "etl", "dag_id": dag_id(run), "dag_display_name": run.definition_name}],
        "next_dagrun_logical_date": None,
        "next_dagrun_run_after": None,
        "allowed_run_types": None,
        "is_backfillable": True,
    }

"""A task's log as the emulated Airflow keeps it: Airflow 3's structured messages, Airflow 2's
text of the same; a failure's exception in error_detail, or printed as a traceback."""

from datetime import datetime

from instances.emulator import scenario as sc
from instances.emulator.failures import failure

from .emulator_records import dag_id, run_id, stamp, task_id, task_state

SPARK_HOOK = "/home/airflow/.local/lib/python3.12/site-packages/airflow/providers/apache/spark"


def log_messages(run: sc.Run, n: int, now: datetime, try_number: int) -> list[dict]:
    """A task's log as Airflow 3 keeps it: structured messages; a failure's exception in
    error_detail (Airflow 2 prints the same as a traceback)."""
    step = run.steps[n]
    messages: list[dict] = [
        {
            "timestamp": stamp(step.start),
            "event": "Dependencies all met for "
            f"<TaskInstance: {dag_id(run)}.{task_id(n)} {run_id(run)} [queued]>",
            "level": "info",
            "logger": "airflow.models.taskinstance",
        }
    ]
    messages += [
        {
            "timestamp": stamp(step.start),
            "event": f"{step.name}: stage {k} done",
            "level": "info",
            "logger": "airflow.task.operators.spark_submit",
        }
        for k in range(30)
    ]
    # an earlier try failed, whatever the current one does
    if task_state(run, step, now) == "failed" or try_number < step.tries(now, run):
        failed = failure(run, step)
        messages += [
            {"timestamp": stamp(step.end), "event": line, "level": "error", "logger": "task"}
            for line in failed.log
        ]
        frame = {"filename": f"{SPARK_HOOK}/hooks/spark_submit.py", "lineno": 562}
        raised = {
            "exc_type": "AirflowException",
            "exc_value": failed.message,
            "exc_notes": [],
            "syntax_error": None,
            "is_cause": False,
            "frames": [frame | {"name": "submit"}],
            "is_group": False,
            "exceptions": [],
        }
        messages.append(
            {
                "timestamp": stamp(step.end),
                "event": "Task failed with exception",
                "level": "error",
                "task_id": task_id(n),
                "ti_id": f"01a24b39-0978-74b0-{n:04d}-{run.seq % 10**12:012d}",
                "try_number": try_number,
                "map_index": -1,
                "dag_id": dag_id(run),
                "run_id": run_id(run),
                "logger": "task",
                "filename": "task_runner.py",
                "lineno": 1676,
                "error_detail": [raised],
            }
        )
    return messages


def log_text(messages: list[dict]) -> str:
    """Airflow 2's text log of the same messages."""
    lines = []
    for m in messages:
        lines.append(
            f"[{m['timestamp']}] {{taskinstance.py:3311}} {m['level'].upper()} - {m['event']}"
        )
        for raised in m.get("error_detail", []):
            lines += ["Traceback (most recent call last):"]
            lines += [
                f'  File "{f["filename"]}", line {f["lineno"]}, in {f["name"]}'
                for f in raised["frames"]
            ]
            lines += [f"airflow.exceptions.{raised['exc_type']}: {raised['exc_value']}"]
    return "\n".join(lines) + "\n"

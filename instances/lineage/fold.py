"""One run's OpenLineage events, in any order and repeated, folded into the RunRecord a polled
vendor would have given: the spec's run cycle (website/docs/spec/run-cycle.md), where an end
(COMPLETE, FAIL, ABORT) is final whatever arrives after it, and the facets Runboard reads:
parent, errorMessage, nominalTime, jobDependencies, and Airflow's own (its DAG's tasks and
their downstream ids in the job facet `airflow`, their states in the run facet
`airflowState`: a task that never ran, upstream failed, sends no event of its own)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from instances.connectors.base import RunRecord
from instances.connectors.normalize import iso
from instances.status import Kind, Status

ENDS = {"COMPLETE": Status.SUCCEEDED, "FAIL": Status.FAILED, "ABORT": Status.CANCELED}
GOING = {"START", "RUNNING"}
EARLIEST = datetime.min.replace(tzinfo=UTC)  # an event without a time sorts first
RAW_KEPT = ("eventType", "eventTime", "producer", "schemaURL", "job", "run")


def facet(event: dict, name: str) -> dict:
    found = ((event.get("run") or {}).get("facets") or {}).get(name)
    return found if isinstance(found, dict) else {}


def parent_of(event: dict) -> str:
    run = facet(event, "parent").get("run")
    return str(run.get("runId") or "") if isinstance(run, dict) else ""


def fold(events: Iterable[dict], edges: tuple[tuple[str, str], ...] = ()) -> RunRecord:
    """The run as its events tell it. `edges`: between its children's run ids, for a parent."""
    ordered = sorted(events, key=lambda e: iso(e.get("eventTime")) or EARLIEST)
    last = ordered[-1]
    ended = [e for e in ordered if e.get("eventType") in ENDS]
    final = ended[-1] if ended else None
    if final is not None:
        status = ENDS[final["eventType"]]
    elif any(e.get("eventType") in GOING for e in ordered):
        status = Status.RUNNING
    else:
        status = Status.PENDING  # OTHER only: known, not yet started
    started = next(
        (iso(e.get("eventTime")) for e in ordered if e.get("eventType") == "START"), None
    )
    job = last.get("job") or {}
    error = next(
        (facet(e, "errorMessage") for e in reversed(ordered) if facet(e, "errorMessage")), {}
    )
    nominal = next((facet(e, "nominalTime") for e in ordered if facet(e, "nominalTime")), {})
    parent = next((p for e in ordered if (p := parent_of(e))), "")
    name = str(job.get("name") or "")
    return RunRecord(
        external_id=str(last["run"]["runId"]),
        kind=Kind.TASK if parent else Kind.FLOW,
        name=name.rsplit(".", 1)[-1] if parent else name,  # Airflow names a task dag.task
        status=status,
        vendor_status=str((final or last).get("eventType") or ""),
        parent_id=parent or None,
        definition_id=name,
        definition_name=name,
        planned_at=iso(nominal.get("nominalStartTime")),
        started_at=started or iso(ordered[0].get("eventTime")),
        finished_at=iso(final.get("eventTime")) if final else None,
        error_message=str(error.get("message") or ""),
        edges=edges,
        has_children=not parent,  # a parent's children are its events' too: never fetched
        raw={key: (final or last).get(key) for key in RAW_KEPT},
    )


# Airflow's task states → ours, for tasks known only from their DAG run's airflowState facet
AIRFLOW_STATES = {
    "success": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "upstream_failed": Status.SKIPPED,
    "skipped": Status.SKIPPED,
    "removed": Status.CANCELED,
    "running": Status.RUNNING,
}


def airflow_tasks(parent_events: list[dict]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """An Airflow DAG run's tasks → their downstream task ids, and → their states, from the
    newest of its events that carry them."""
    downstream: dict[str, list[str]] = {}
    states: dict[str, str] = {}
    for event in sorted(parent_events, key=lambda e: iso(e.get("eventTime")) or EARLIEST):
        airflow = ((event.get("job") or {}).get("facets") or {}).get("airflow")
        tasks = airflow.get("tasks") if isinstance(airflow, dict) else None
        if isinstance(tasks, dict):
            downstream = {
                str(task): [str(d) for d in info.get("downstream_task_ids") or []]
                for task, info in tasks.items()
                if isinstance(info, dict)
            }
        told = facet(event, "airflowState").get("tasksState")
        if isinstance(told, dict):
            states = {str(task): str(state) for task, state in told.items()}
    return downstream, states


def unseen_tasks(parent: RunRecord, seen: set[str], states: dict[str, str]) -> list[RunRecord]:
    """The DAG run's tasks it says the states of but that sent no event (upstream failed,
    skipped): steps of their own, named as Airflow names their jobs."""
    return [
        RunRecord(
            external_id=f"{parent.external_id}/{task}",
            kind=Kind.TASK,
            name=task,
            status=AIRFLOW_STATES.get(state, Status.UNKNOWN),
            vendor_status=state,
            parent_id=parent.external_id,
            definition_id=f"{parent.definition_id}.{task}",
            definition_name=f"{parent.definition_id}.{task}",
            flags=("upstream_failed",) if state == "upstream_failed" else (),
            planned_at=parent.planned_at,
        )
        for task, state in states.items()
        if f"{parent.definition_id}.{task}" not in seen
    ]


def edges_between(
    children: dict[str, list[dict]], downstream: dict[str, list[str]] | None = None, dag: str = ""
) -> tuple[tuple[str, str], ...]:
    """(upstream, downstream) run ids among one parent's children: from their jobDependencies
    facets (by run id where given, else by job name), and from an Airflow DAG's tasks'
    downstream ids (`dag`.task_id is the task's job name)."""
    by_job = {
        str((events[-1].get("job") or {}).get("name")): run for run, events in children.items()
    }
    found: set[tuple[str, str]] = set()
    for task, below in (downstream or {}).items():
        for down in below:
            up_run, down_run = by_job.get(f"{dag}.{task}"), by_job.get(f"{dag}.{down}")
            if up_run and down_run:
                found.add((up_run, down_run))
    for run, events in children.items():
        for event in events:
            dependencies = facet(event, "jobDependencies")
            for side in ("upstream", "downstream"):
                for dependency in dependencies.get(side) or []:
                    other = linked(dependency, by_job)
                    if other and other != run and other in children:
                        found.add((other, run) if side == "upstream" else (run, other))
    return tuple(sorted(found))


def linked(dependency, by_job: dict[str, str]) -> str:
    if not isinstance(dependency, dict):
        return ""
    run = dependency.get("run")
    if isinstance(run, dict) and run.get("runId"):
        return str(run["runId"])
    job = dependency.get("job")
    return by_job.get(str(job.get("name")), "") if isinstance(job, dict) else ""

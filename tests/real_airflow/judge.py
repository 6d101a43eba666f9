"""What Runboard stored, compared field by field with what a real Airflow's own REST API says:
runs, steps, statuses, times, tries, edges, culprit, error line and log text. Expectations are
derived here from Airflow's answers, independently of the connector's code."""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from dashboard.views.runs import fetch_log
from instances.failures import culprit_steps
from instances.models import Backend, Edge, Instance, Status

from .server import run_path

RUN = {"queued": Status.PENDING, "running": Status.RUNNING, "success": Status.SUCCEEDED}
RUN |= {"failed": Status.FAILED}
TASK = {
    None: Status.PENDING,
    "scheduled": Status.PENDING,
    "queued": Status.PENDING,
    "running": Status.RUNNING,
    "up_for_retry": Status.RUNNING,
    "success": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "upstream_failed": Status.SKIPPED,
    "skipped": Status.SKIPPED,
}
PYTHON_EXCEPTION = re.compile(r"^(\w+(?:Error|Exception)): (.*)$", re.MULTILINE)


def every(client: httpx.Client, path: str, key: str, **params) -> list[dict]:
    items: list[dict] = []
    while True:
        body = client.get(path, params={**params, "offset": len(items), "limit": 100}).json()
        items += body[key]
        if not body[key] or len(items) >= body["total_entries"]:
            return items


def moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def step_id(run_id: str, ti: dict) -> str:
    mapped = ti["map_index"]
    return f"{run_id}/{ti['task_id']}" + (f"[{mapped}]" if mapped >= 0 else "")


class Judge:
    def __init__(self, client: httpx.Client, major: int, backend: Backend):
        self.client, self.major, self.backend = client, major, backend
        self.found: list[str] = []

    def expect(self, what: str, stored, truth) -> None:
        if stored != truth:
            self.found.append(f"{what}: Runboard {stored!r}, Airflow {truth!r}")

    def mismatches(self) -> list[str]:
        self.found = []
        runs = every(self.client, "dags/~/dagRuns", "dag_runs")
        stored = Instance.objects.filter(backend=self.backend, parent__isnull=True)
        self.expect(
            "runs",
            sorted(r.external_id for r in stored if not r.gone_at),
            sorted(f"{r['dag_id']}/{r['dag_run_id']}" for r in runs),
        )
        for run in runs:
            self.judge_run(run)
        return self.found

    def judge_run(self, run: dict) -> None:
        run_id = f"{run['dag_id']}/{run['dag_run_id']}"
        stored = Instance.objects.filter(backend=self.backend, external_id=run_id).first()
        if stored is None:
            return  # counted in "runs"
        self.expect(f"{run_id} status", stored.status, RUN[run["state"]])
        self.expect(f"{run_id} started", stored.started_at, moment(run["start_date"]))
        self.expect(f"{run_id} finished", stored.finished_at, moment(run["end_date"]))
        manual = run.get("run_type") == "manual"
        self.expect(f"{run_id} manual", "manual" in stored.flags, manual)
        path = run_path(run["dag_id"], run["dag_run_id"])
        tis = every(self.client, f"{path}/taskInstances", "task_instances")
        steps = {s.external_id: s for s in stored.children.all()}
        self.expect(f"{run_id} steps", sorted(steps), sorted(step_id(run_id, t) for t in tis))
        for ti in tis:
            if step := steps.get(step_id(run_id, ti)):
                self.judge_step(step, ti, path)
        self.judge_edges(stored, run, run_id, tis)
        if stored.status == Status.FAILED:
            culprit = culprit_steps([stored]).get(stored.pk)
            failed = [step_id(run_id, t) for t in tis if t["state"] == "failed"]
            self.expect(f"{run_id} culprit", culprit and culprit.external_id, failed[0])

    def judge_step(self, step: Instance, ti: dict, path: str) -> None:
        what = step.external_id
        self.expect(f"{what} status", step.status, TASK[ti["state"]])
        self.expect(f"{what} vendor status", step.vendor_status, ti["state"] or "none")
        self.expect(f"{what} started", step.started_at, moment(ti["start_date"]))
        self.expect(f"{what} finished", step.finished_at, moment(ti["end_date"]))
        self.expect(f"{what} tries", step.attempts, ti["try_number"] or None)
        if ti["state"] in ("success", "failed"):
            truth = self.airflow_log(path, ti)
            shown = fetch_log(step, 1_000_000).text
            missing = [line for line in truth if line not in shown]
            self.expect(f"{what} log lines missing", missing[:3], [])
        if ti["state"] == "failed":
            self.expect(f"{what} error", step.error_message, self.exception(path, ti))
        if ti["try_number"] > 1:
            self.judge_tries(step, ti, path)

    def judge_tries(self, step: Instance, ti: dict, path: str) -> None:
        """Each earlier try as Airflow lists it, with the error its own log shows."""
        listed = self.client.get(f"{path}/taskInstances/{ti['task_id']}/tries").json()
        earlier = [t for t in listed["task_instances"] if t["try_number"] < ti["try_number"]]
        truth = [
            (
                t["try_number"],
                TASK[t["state"]],
                moment(t["start_date"]),
                moment(t["end_date"]),
                self.exception(path, t) if t["state"] == "failed" else "",
            )
            for t in sorted(earlier, key=lambda t: t["try_number"])
        ]
        stored = list(
            step.tries.order_by("number").values_list(
                "number", "status", "started_at", "finished_at", "error_message"
            )
        )
        self.expect(f"{step.external_id} earlier tries", stored, truth)

    def judge_edges(self, stored: Instance, run: dict, run_id: str, tis: list[dict]) -> None:
        tasks = self.client.get(f"dags/{run['dag_id']}/tasks").json()["tasks"]
        instances: dict[str, list[str]] = {}
        for ti in tis:
            instances.setdefault(ti["task_id"], []).append(step_id(run_id, ti))
        truth = {
            (up, down)
            for task in tasks
            for downstream in task["downstream_task_ids"]
            for up in instances.get(task["task_id"], [])
            for down in instances.get(downstream, [])
        }
        edges = Edge.objects.filter(parent=stored).values_list(
            "upstream__external_id", "downstream__external_id"
        )
        self.expect(f"{run_id} edges", sorted(edges), sorted(truth))

    def log_url(self, path: str, ti: dict) -> tuple[str, dict]:
        params = {"full_content": "true"} | (
            {"map_index": ti["map_index"]} if ti["map_index"] >= 0 else {}
        )
        return f"{path}/taskInstances/{ti['task_id']}/logs/{ti['try_number']}", params

    def airflow_log(self, path: str, ti: dict) -> list[str]:
        """The lines of the task's last try's log, as Airflow serves them."""
        url, params = self.log_url(path, ti)
        if self.major == 2:
            text = self.client.get(url, params=params, headers={"Accept": "text/plain"}).text
            return [line for line in text.splitlines() if line.strip()]
        body = self.client.get(url, params=params, headers={"Accept": "application/json"})
        return [str(m["event"]) for m in body.json()["content"] if m.get("event")]

    def exception(self, path: str, ti: dict) -> str:
        """The exception the task raised, as Airflow recorded it."""
        url, params = self.log_url(path, ti)
        if self.major == 2:
            text = self.client.get(url, params=params, headers={"Accept": "text/plain"}).text
            raised = PYTHON_EXCEPTION.findall(text)
            return f"{raised[-1][0]}: {raised[-1][1]}" if raised else ""
        body = self.client.get(url, params=params, headers={"Accept": "application/json"})
        details = [d for m in body.json()["content"] for d in m.get("error_detail") or []]
        final = [d for d in details if not d.get("is_cause")] or details
        return f"{final[-1]['exc_type']}: {final[-1]['exc_value']}" if final else ""


def has_a_retried_task(client: httpx.Client, run: dict) -> bool:
    path = run_path(run["dag_id"], run["dag_run_id"])
    tis = client.get(f"{path}/taskInstances").json()["task_instances"]
    return any(t["try_number"] > 1 for t in tis)


def field_sets(client: httpx.Client, major: int) -> dict[str, set[str]]:
    """The fields of each kind of record an Airflow answers with, read from one failed run
    with a task tried twice (the emulator's or a real server's: the emulator must answer with
    the same)."""
    listed = client.get("dags/~/dagRuns", params={"limit": 100}).json()
    run = next(
        r for r in listed["dag_runs"] if r["state"] == "failed" and has_a_retried_task(client, r)
    )
    path = run_path(run["dag_id"], run["dag_run_id"])
    instances = client.get(f"{path}/taskInstances").json()
    failed = next(t for t in instances["task_instances"] if t["state"] == "failed")
    tasks = client.get(f"dags/{run['dag_id']}/tasks").json()
    retried = next(t for t in instances["task_instances"] if t["try_number"] > 1)
    tries = client.get(f"{path}/taskInstances/{retried['task_id']}/tries").json()
    sets = {
        "dag runs list": set(listed),
        "dag run": set(run),
        "task instances list": set(instances),
        "task instance": set(failed),
        "tasks list": set(tasks),
        "task": set(tasks["tasks"][0]),
        "dag": set(client.get(f"dags/{run['dag_id']}").json()),
        "tries list": set(tries),
        "try": set(tries["task_instances"][0]),
    }
    if major == 3:
        url = f"{path}/taskInstances/{failed['task_id']}/logs/{failed['try_number']}"
        log = client.get(url, headers={"Accept": "application/json"}).json()
        error = next(m for m in log["content"] if m.get("error_detail"))
        sets |= {
            "log": set(log),
            "log error message": set(error),
            "log error detail": set(error["error_detail"][0]),
        }
    return sets

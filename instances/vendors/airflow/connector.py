"""Apache Airflow 2 (/api/v1) and 3 (/api/v2), one connector: DAG runs as flows, their task
instances as children (a mapped task's as `task[i]`), edges from the DAG's tasks
(downstream_task_ids, spread over mapped children), task logs per try. Which API a server
speaks is probed (`/api/v2/version`) unless the backend's scope says (`api_version`)."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx

from instances import errors
from instances.connectors.acting import (
    ANSWER_KEPT,
    ANY,
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
    EarlierTry,
    LogChunk,
    RunRecord,
    VendorError,
)
from instances.connectors.http import VendorHTTP
from instances.connectors.normalize import iso
from instances.connectors.paging import offset_pages

from .acting import clear, logical_now, set_state
from .auth import auth_for
from .records import (
    dag_run_record,
    locator,
    log_line,
    said,
    spread_edges,
    task_record,
    task_status,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the API's default maximum_page_limit
DEFAULT_WINDOW = timedelta(days=7)
LOG_PAGES = 20  # continuation tokens followed at most for one structured log


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

    moves = {
        "retry": Move("retry"),
        "retry_step": Move("retry_step", on_step=True),
        # a run set failed fails its running tasks (there is no kill)
        "stop": Move("stop", when=UNFINISHED, careful=True),
        "rerun": Move("rerun", when=ENDED, new_run=True),  # a manual run of the DAG, now
        "succeed_step": Move("succeed_step", on_step=True, careful=True),  # hides a gap
        "pause": Move("pause", when=ANY, careful=True, on_schedule=True),
        "resume": Move("resume", when=ANY, on_schedule=True),
    }

    def client(self) -> VendorHTTP:
        with self.lock:
            if self.http is None:
                self.api = self.api or probe(self.config.base_url)
                auth = auth_for(self.api, self.config.base_url, self.config.credentials)
                self.http = VendorHTTP(self.config.base_url, auth=auth)
            return self.http

    def get(self, path: str, **params):
        response = self.client().request("GET", f"/api/{self.api}/{path}", params=params or None)
        return answer(response, f"GET {path}")

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
            run, dag=dag, has_children=True, edges=spread_edges(tasks, children)
        )
        return [record, *children]

    def with_tries(self, run_path: str, step: RunRecord) -> RunRecord:
        """A task on its second try or later, with its earlier tries (Airflow 2.10 and 3)."""
        mapped = found if isinstance(found := step.raw.get("map_index"), int) else -1
        task = f"{run_path}/taskInstances/{quote(step.definition_id)}"
        try:
            body = self.get(f"{task}/{mapped}/tries" if mapped >= 0 else f"{task}/tries")
        except (VendorError, BadPayload) as exc:  # none listed (before 2.10), or unreadable:
            # the step as it is, never the run lost
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
            try:  # names, owners and schedule only: the runs are read without them
                dag = self.get(f"dags/{quote(dag_id)}")
            except (VendorError, BadPayload) as exc:
                log.info("%s: DAG %s not described: %s", self.config.name, dag_id, exc)
                dag = {}
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
            body = answer(response, f"GET {url}")
            content = body.get("content")
            lines += [log_line(m) for m in content or [] if isinstance(m, dict)]
            token = body.get("continuation_token")
            if not content or not token or token == params.get("token"):
                break
            params = {**params, "token": token}
        return "\n".join(lines) + "\n"

    # -- acting: clear task instances (retry), set the run's state (stop) ----------------------

    def http_client(self) -> VendorHTTP:
        return self.client()

    def call_for(self, move: Move, target: Target) -> VendorCall:
        self.client()  # which major: the paths differ
        dag_id, run_id = target.run_id.split("/", 1)
        dag = f"/api/{self.api}/dags/{quote(dag_id)}"
        run = f"{dag}/dagRuns/{quote(run_id, safe='')}"
        if move.name == "stop":
            return VendorCall("PATCH", run, body={"state": "failed"})
        if move.name == "rerun":
            body: dict = {"dag_run_id": f"runboard__{datetime.now(UTC).isoformat()}"}
            return VendorCall("POST", f"{dag}/dagRuns", body=body | logical_now(self.api))
        if move.on_schedule:
            paused = {"is_paused": move.name == "pause"}
            return VendorCall("PATCH", dag, params={"update_mask": "is_paused"}, body=paused)
        if move.name == "succeed_step":
            return set_state(self.api, run, target, dry_run=False)
        return clear(self.api, dag_id, run_id, target, dry_run=False)

    def dry_run(self, move: Move, target: Target) -> list[str] | None:
        """What Airflow itself says a clear or a state change would touch."""
        if move.name not in ("retry", "retry_step", "succeed_step"):
            return None
        self.client()
        dag_id, run_id = target.run_id.split("/", 1)
        if move.name == "succeed_step":
            run = f"/api/{self.api}/dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}"
            call = set_state(self.api, run, target, dry_run=True)
        else:
            call = clear(self.api, dag_id, run_id, target, dry_run=True)
        response = self.client().once(call.method, call.path, json=call.body)
        body = answer(response, call.path)
        touched = []
        for item in body.get("task_instances", [body]) or []:
            if isinstance(item, dict) and item.get("task_id"):
                index = item.get("map_index")
                suffix = f"[{index}]" if isinstance(index, int) and index >= 0 else ""
                touched.append(f"{item['task_id']}{suffix}")
        return touched

    def schedule_paused(self, target: Target) -> bool | None:
        paused = self.get(f"dags/{quote(target.run_id.split('/', 1)[0])}").get("is_paused")
        return paused if isinstance(paused, bool) else None

    def answer_of(self, response: httpx.Response) -> VendorAnswer:
        """Airflow's words on an error; a triggered run's id on a new DAG run."""
        text = response.text[:ANSWER_KEPT]
        try:
            body = response.json()
        except ValueError:
            body = None
        if not response.is_success:
            message = said(body) if body is not None else text[:300]
            return VendorAnswer(response.status_code, False, message, body=text)
        triggered = response.request.method == "POST" and response.request.url.path.endswith(
            "/dagRuns"
        )
        new_run = ""
        if triggered and isinstance(body, dict) and body.get("dag_id") and body.get("dag_run_id"):
            new_run = f"{body['dag_id']}/{body['dag_run_id']}"
        return VendorAnswer(response.status_code, True, new_run_id=new_run, body=text)

    def error_in_log(self, text: str) -> str:
        """A Python task's error is its traceback's exception line; the ERROR and INFO lines
        around it only say that it failed."""
        return errors.python_exception(text) or super().error_in_log(text)


def answer(response: httpx.Response, what: str) -> dict:
    """Airflow's JSON answer as an object, or its own words for the error it says."""
    try:
        body = response.json()
    except ValueError as exc:
        raise BadPayload(f"{what}: body is not JSON ({exc})") from exc
    if response.status_code >= 400:
        raise VendorError(response.status_code, said(body))
    if not isinstance(body, dict):
        raise BadPayload(f"{what}: reply is not an object")
    return body


def probe(base_url: str) -> str:
    """ "v2" for Airflow 3 (its version endpoint needs no sign-in), else "v1"."""
    prober = VendorHTTP(base_url)
    try:
        return "v1" if prober.request("GET", "/api/v2/version").status_code == 404 else "v2"
    finally:
        prober.close()


CONNECTORS = (AirflowConnector,)

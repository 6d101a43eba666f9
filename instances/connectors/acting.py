"""What a connector needs to act on its vendor: the moves it documents, the one request each
sends, and what the vendor answered. Only documented endpoints are moves (../shared/
vendor-apis.md §5); a vendor without one offers nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from instances.status import Status

FAILED = frozenset({Status.FAILED})
UNFINISHED = frozenset({Status.PENDING, Status.RUNNING})
ENDED = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.SKIPPED})
ANY = frozenset(Status)


@dataclass(frozen=True, slots=True)
class Move:
    """One action a vendor documents, on a run or on one of its steps."""

    name: str  # retry, retry_step, stop, stop_step, skip_step, rollback, rerun
    on_step: bool = False
    when: frozenset[Status] = FAILED  # the target's statuses it applies to
    # hides a data gap or widens the blast radius: a team admin, or an operator who types
    # the run's name to confirm
    careful: bool = False
    new_run: bool = False  # the vendor starts a new run and answers with its id
    on_schedule: bool = False  # acts on the run's definition: its future runs


@dataclass(frozen=True, slots=True)
class Target:
    """The run (and step) a move names, as Runboard stored them."""

    run_id: str  # external ids
    definition_id: str = ""
    raw: Any = None
    step_id: str = ""
    step_definition_id: str = ""  # the task's own id in its flow or DAG
    step_raw: Any = None


@dataclass(frozen=True, slots=True)
class VendorCall:
    """The one request a move sends: what the audit log keeps (no header: they hold the
    secrets)."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content(self) -> str | None:
        return None if self.body is None else json.dumps(self.body, separators=(",", ":"))

    def url(self, base_url: str) -> str:
        request = httpx.Request(self.method, base_url.rstrip("/") + self.path, params=self.params)
        return str(request.url)


@dataclass(frozen=True, slots=True)
class VendorAnswer:
    status: int
    accepted: bool
    message: str = ""  # the vendor's words, success or not
    request_id: str = ""  # OCP traceId, Huawei X-request-id, EnOS requestId
    new_run_id: str = ""  # external id of the run the vendor started, when it did
    body: str = ""  # what it answered, capped


ANSWER_KEPT = 4000  # characters of a vendor's answer kept in the audit log

"""The JSON API, /api/v1/…, by django-ninja: reads, and actions on runs (checked and audited
as on the pages). Its OpenAPI schema (/api/v1/schema) is generated from the signatures and
schemas below, so it cannot drift from the code. Session or `Authorization: Bearer <token>`;
every answer is scoped by visible_to() like the pages."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, NinjaAPI, Query, Schema
from ninja import Status as Answer  # (status code, body); ours is the run Status
from ninja.security import HttpBearer, django_auth

from dashboard import summaries
from dashboard.filters import SORTS, is_id
from dashboard.scope import ReadScope
from instances.acting import perform
from instances.acting.offers import actions_on
from instances.models import ApiToken, Backend, Edge, Instance, Kind, Status
from instances.status import culprits


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        if user := ApiToken.user_for(token):
            request.user = user
        return user


api = NinjaAPI(
    title="Runboard API",
    version="1",
    urls_namespace="api",
    docs_url=None,
    openapi_url="/schema",
    auth=[BearerToken(), django_auth],
)


class Error(Schema):
    detail: str


class RunOut(Schema):
    id: int
    external_id: str
    kind: Kind
    name: str
    status: Status
    vendor_status: str
    backend_id: int
    parent_id: int | None
    definition_id: str
    definition_name: str
    owner: str
    planned_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration: float | None = Field(None, description="seconds")
    attempts: int | None
    error_message: str

    @staticmethod
    def resolve_duration(run: Instance) -> float | None:
        return run.duration.total_seconds() if run.duration else None


class RunPage(Schema):
    runs: list[RunOut]
    next: str | None = Field(description="the next page, or null on the last")


class RunDetail(RunOut):
    children: list[int]
    failing_step: int | None = Field(description="the step that failed the run, if any")
    edges: list[list[int]] = Field(description="[upstream, downstream] between its children")
    raw: Any = Field(None, description="the vendor's own record, size-capped")


class RunQuery(Schema):
    """The run list's filters. Values a filter does not know are ignored, as in the list (a
    stale link still shows runs)."""

    backend: list[str] = Field([], description="backend ids")
    kind: list[str] = Field([], description=f"one of {', '.join(Kind.values)}")
    status: list[str] = Field([], description=f"one of {', '.join(Status.values)}")
    exclude: list[str] = Field([], alias="not", description="statuses to leave out")
    window: str = Field("", description="1h, 24h (default), 7d, 30d, all or custom")
    start: str = Field("", description="first day (UTC) of window=custom, YYYY-MM-DD")
    end: str = Field("", description="last day (UTC) of window=custom, YYYY-MM-DD")
    since: str = Field("", description="window=custom from this moment (ISO 8601)")
    until: str = Field("", description="window=custom up to this moment (ISO 8601)")
    team: str = Field("", description="team id")
    owner: str = ""
    definition: str = ""
    signature: str | None = Field(None, description="failed runs whose error has it")
    q: str = Field("", description="a vendor id (a step's too), or part of a name")
    steps: str = Field("", description="1: steps (tasks, nodes, subtasks) too")
    sort: str = Field("-run_at", description=", ".join(SORTS))
    after: str = Field("", description="the cursor in `next`")


@api.get(
    "/runs",
    response={200: RunPage, 401: Error},
    url_name="runs",
    summary="Runs, filtered and keyset-paged like the run list",
)
def runs(request: HttpRequest, filters: Query[RunQuery]):
    scope = ReadScope.of(request.user, request.GET)
    rows, cursor = scope.page()
    query = request.GET.copy()
    query["after"] = cursor or ""
    return {"runs": rows, "next": f"{reverse('api:runs')}?{query.urlencode()}" if cursor else None}


@api.get(
    "/runs/{pk}",
    response={200: RunDetail, 401: Error, 404: Error},
    url_name="run",
    summary="One run with its children, edges and failing step",
)
def run(request: HttpRequest, pk: str):
    if (found := visible_run(request, pk)) is None:
        return Answer(404, {"detail": "not found"})
    edges = list(Edge.objects.filter(parent=found).values_list("upstream_id", "downstream_id"))
    children = list(found.children.only("status", "started_at").order_by("started_at", "id"))
    failing = culprits(found.status, children, edges)
    return {
        **RunOut.from_orm(found).model_dump(),
        "children": [child.pk for child in children],
        "failing_step": failing[0].pk if failing else None,
        "edges": [list(edge) for edge in edges],
        "raw": found.raw,
    }


class Invalid(Schema):
    detail: list[dict[str, Any]]  # what django-ninja says of a body it cannot read


class ActionOut(Schema):
    id: int
    move: str
    state: str
    person_name: str
    role: str
    reason: str
    run_external_id: str
    step_external_id: str
    method: str
    url: str
    preview: list[str]
    vendor_status: int | None
    vendor_message: str
    request_id: str
    new_run_id: str
    requested_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: str


class ActionIn(Schema):
    move: str = Field(
        description="what the run's page offers: retry, retry_step, stop, cancel_step, "
        "skip_step, succeed_step, rollback, rerun, pause, resume (as its backend documents)"
    )
    reason: str = Field(description="why: kept in the audit log")
    key: str = Field("", description="your idempotency key: the same key is the same action")
    confirm: str = Field("", description="careful moves, unless a team admin: the run's name")


class ActionList(Schema):
    actions: list[ActionOut]


@api.get(
    "/runs/{pk}/actions",
    response={200: ActionList, 401: Error, 404: Error},
    url_name="run_actions",
    summary="The actions asked on a run and its steps, newest first",
)
def run_actions(request: HttpRequest, pk: str):
    if (found := visible_run(request, pk)) is None:
        return Answer(404, {"detail": "not found"})
    return {"actions": list(actions_on(found)[:100])}


@api.post(
    "/runs/{pk}/actions",
    response={
        202: ActionOut,
        400: Error,
        401: Error,
        403: Error,
        404: Error,
        409: Error,
        422: Invalid,
    },
    url_name="act",
    summary="Act on a run or step on its vendor: checked, audited, sent once, then followed",
)
def act(request: HttpRequest, pk: str, body: ActionIn):
    if (found := visible_run(request, pk)) is None:
        return Answer(404, {"detail": "not found"})
    key = body.key[:40] or secrets.token_hex(16)
    try:
        action = perform.request(
            request.user, found, body.move, body.reason[:2000], f"api-{key}", body.confirm
        )
    except perform.Refused as refused:
        return Answer(refused.status, {"detail": str(refused)})
    return Answer(202, action)


def visible_run(request: HttpRequest, pk: str) -> Instance | None:
    visible = Instance.objects.visible_to(request.user).select_related("backend", "parent")
    return visible.filter(pk=int(pk)).first() if is_id(pk) else None


class SummaryOut(Schema):
    window: str
    by_status: dict[str, int]
    success_rate: float | None


@api.get(
    "/summary",
    response={200: SummaryOut, 401: Error},
    url_name="summary",
    summary="Top-level runs by status, and the success rate",
)
def summary(request: HttpRequest, window: str = "24h", backend: str = "", team: str = ""):
    scope = ReadScope.of(request.user, request.GET).counted()
    counts = summaries.by_status(scope)
    return {
        "window": window if window in summaries.WINDOWS else "24h",
        "by_status": counts,
        "success_rate": summaries.success_rate(counts),
    }


class BackendOut(Schema):
    id: int
    name: str
    kind: str
    enabled: bool
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str
    last_latency_ms: int | None


class BackendList(Schema):
    backends: list[BackendOut]


@api.get(
    "/backends",
    response={200: BackendList, 401: Error},
    url_name="backends",
    summary="Backends and their health",
)
def backends(request: HttpRequest):
    return {"backends": list(Backend.objects.visible_to(request.user).order_by("name"))}


def urls():
    """The API's URL patterns, each marked login_not_required: the API answers for itself
    (401 as JSON, from its own auth), so Django's login redirect must not intercept it, and
    django-ninja does not mark its views (vitalik/django-ninja#1461)."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if pattern.callback is not None:
            login_not_required(pattern.callback)
    return patterns, app_name, namespace

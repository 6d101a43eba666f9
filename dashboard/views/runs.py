"""The ops views: the live run list, one run's detail (DAG, timeline, log, payload), backends."""

import hashlib
import json
import logging
import re
from datetime import timedelta
from types import SimpleNamespace

from django.conf import settings
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from kombu.exceptions import OperationalError

from dashboard import compare, dag, summaries, timeline
from dashboard.filters import WINDOWS
from dashboard.preferences import ReaderRequest
from dashboard.run_rows import run_rows
from dashboard.scope import ReadScope
from dashboard.steps import Step, steps_of
from instances import errors, tasks
from instances.acting.offers import actions_on, offers
from instances.alerts.models import Alert, Channel
from instances.connectors.base import ConnectorError
from instances.models import STALE_AFTER, Backend, Edge, Instance, Kind, Poll, Status
from instances.people import roles
from instances.people.models import Role
from instances.registry import CONNECTORS, PUSHED_KINDS
from instances.status import culprits, victims

log = logging.getLogger(__name__)
LOG_BYTES = 64 * 1024  # shown on the page
LOG_DOWNLOAD_BYTES = 10 * 1024 * 1024  # offered as a file
AROUND = timedelta(minutes=30)  # "at the same time", for failures on other backends
# filters the form has no field for (they come from overview links), kept when it changes
KEPT = ("team", "definition", "signature", "since", "until")
ACTIONS_SHOWN = 20  # on the run page; the team's audit page has them all
STEPS_SHOWN = 200  # steps in the table and the Gantt, unless all are asked for (?steps=all)


@require_GET
@vary_on_headers("HX-Request")
def runs_list(request: ReaderRequest) -> HttpResponse:
    scope = ReadScope.of(request.user, request.GET)
    chosen = scope.filter
    if (
        chosen.q
        and not request.htmx
        and (found := exactly_one(Instance.objects.visible_to(request.user), chosen.q))
    ):
        return redirect("run_detail", found.pk)  # a pasted vendor id opens its run
    backends = list(Backend.objects.visible_to(request.user).order_by("name"))
    # Live refresh: runs are written only by polls, and every poll moves its backend's last
    # success or last error; while none did, the list answers 304 before reading any run.
    polled = [(b.pk, b.last_success_at, b.last_error_at) for b in backends]
    live_tag = part_tag([], [request.get_full_path(), *polled])
    etag = etag_of(request, live_tag)
    if not_modified(request, etag):
        return HttpResponseNotModified()
    rows, next_cursor = scope.page()
    context = {
        "rows": rows,
        "row_html": run_rows(rows),
        "next_cursor": next_cursor,
        "filter": chosen,
        "statuses": Status,
        "kinds": Kind.choices,
        "windows": [*WINDOWS, "all"],
        "kept": kept_filters(request),
        "refresh_seconds": settings.RUNBOARD_REFRESH_SECONDS,
        "backends": backends,
        "live_tag": live_tag,
    }
    template = "dashboard/runs.html#rows" if request.htmx else "dashboard/runs.html"
    response = render(request, template, context)
    response["ETag"] = etag
    return response


def kept_filters(request: HttpRequest) -> list[tuple[str, str]]:
    """The filters from links (overview, inbox) the form keeps; an empty signature is one
    (failures without an error message)."""
    return [
        (key, request.GET[key])
        for key in KEPT
        if request.GET.get(key) or (key == "signature" and key in request.GET)
    ]


def exactly_one(runs, external_id: str) -> Instance | None:
    """The one visible run with this vendor id, if only one has it (ids are per backend)."""
    found = list(runs.filter(external_id=external_id).only("pk")[:2])
    return found[0] if len(found) == 1 else None


def part_tag(runs: list[Instance], also: list | tuple = ()) -> str:
    """The tag of a page's live part: changes whenever one of these runs is written (sync
    touches updated_at only then), or anything in `also` changes. The page carries it
    (data-live-tag), so a refresh that brings the same tag is not swapped in again."""
    stamps = "|".join([*(f"{r.pk}:{r.updated_at.timestamp()}" for r in runs), *map(str, also)])
    return f'"{hashlib.sha256(stamps.encode()).hexdigest()[:32]}"'


def etag_of(request: ReaderRequest, part: str) -> str:
    """The response's tag: its live part's, or for the whole page another: a browser that
    revalidates a live refresh with the page's tag would otherwise get 304 and serve the
    cached whole page as the part (Chrome does, Vary: HX-Request notwithstanding)."""
    return part if request.htmx else f'{part[:-1]}-page"'


def not_modified(request: ReaderRequest, etag: str) -> bool:
    return bool(request.htmx) and request.headers.get("If-None-Match") == etag


def visible_run(request: HttpRequest, pk: int) -> Instance:
    """One run the user may see; someone else's run is simply not found."""
    return get_object_or_404(
        Instance.objects.visible_to(request.user).select_related("backend", "parent"), pk=pk
    )


@require_GET
def run_compare(request: ReaderRequest, pk: int) -> HttpResponse:
    """The run beside its definition's last good run."""
    run = visible_run(request, pk)
    good = compare.last_good(run)
    context: dict[str, object] = {"run": run, "good": good}
    if good is not None:
        context |= {
            "rows": compare.rows(run, good),
            "parameters": compare.parameter_rows(run, good),
        }
    return render(request, "dashboard/run_compare.html", context)


@require_GET
@vary_on_headers("HX-Request")
def run_detail(request: ReaderRequest, pk: int) -> HttpResponse:
    run = visible_run(request, pk)
    # Live refresh of an unfinished run: no step written, added or removed since last time
    # answers 304, told by one aggregate instead of reading thousands of steps
    steps = Instance.objects.filter(parent=run)
    written = steps.aggregate(count=Count("id"), last=Max("updated_at"))
    actions = list(actions_on(run)[:ACTIONS_SHOWN])
    acted = [(a.pk, a.state) for a in actions]
    live_tag = part_tag([run], [*written.values(), *acted])
    etag = etag_of(request, live_tag)
    if not_modified(request, etag):
        return HttpResponseNotModified()
    children = steps_of(run)
    shown = children if request.GET.get("steps") == "all" else children[:STEPS_SHOWN]
    edges = list(Edge.objects.filter(parent=run).values_list("upstream_id", "downstream_id"))
    layout = request.GET.get("layout", "LR") if request.GET.get("layout") in dag.LAYOUTS else "LR"
    failing = culprits(run.status, children, edges)
    upstream_failed = victims(children, failing, edges)
    error = (failing[0].error_message if failing else "") or run.error_message
    context = {
        "run": run,
        "children": children,
        "shown": shown,
        "error_line": errors.telling_line(error),
        "error_kind": errors.kind(error),
        "live": not Status(run.status).is_terminal
        or any(not Status(c.status).is_terminal for c in children)
        or any(a.in_flight for a in actions),
        "actions": actions,
        # a step's page offers its own moves and its run's: on-call arrives at the culprit
        "offers": offers(request.user, run)
        + (offers(request.user, run.parent) if run.parent else []),
        "culprit_offers": offers(request.user, step_of(run, failing[0])) if failing else [],
        "refresh_seconds": settings.RUNBOARD_REFRESH_SECONDS,
        "live_tag": live_tag,
        "failed_child": failing[0] if failing else None,
        "dag_svg": dag.svg(run, children, edges, {c.pk for c in failing}, upstream_failed, layout)
        if children
        else "",
        "layout": layout,
        "layouts": dag.LAYOUTS,
        "upstream_failed": upstream_failed,
        "focused": len(children) > dag.FOCUS_ABOVE,
        "gantt": timeline.gantt(children, edges, len(shown)),
        "changes": run.changes.order_by("observed_at"),
        "tries": run.tries.order_by("number"),
        "previous": Instance.objects.visible_to(request.user)
        .filter(
            backend=run.backend_id,
            definition_id=run.definition_id,
            parent__isnull=True,
            run_at__lt=run.run_at,
        )
        .order_by("-run_at")[:20]
        if run.definition_id
        else [],
        "raw": json.dumps(run.raw, indent=2, ensure_ascii=False),
        "console_url": run.backend.console_url(run),
        "pushed": run.backend.kind in PUSHED_KINDS,
        "elsewhere": failed_elsewhere(request, run) if run.status == Status.FAILED else [],
    }
    template = "dashboard/run_detail.html#live" if request.htmx else "dashboard/run_detail.html"
    response = render(request, template, context)
    response["ETag"] = etag
    return response


def step_of(run: Instance, step: Step) -> Instance:
    """A step as the model its moves are offered on, told its run and backend: nothing read."""
    return Instance(pk=step.pk, parent=run, backend=run.backend, name=step.name, status=step.status)


def failed_elsewhere(request: HttpRequest, run: Instance) -> list[Instance]:
    """Top-level runs that failed on other backends around the same time: is this a
    platform-wide problem (network, database, credentials) or this flow's own?"""
    return list(
        Instance.objects.visible_to(request.user)
        .roots()
        .failed()
        .exclude(backend=run.backend_id)
        .in_window(run.run_at - AROUND, run.run_at + AROUND)
        .select_related("backend")
        .order_by("-run_at")[:10]
    )


@require_GET
def run_log(request: HttpRequest, pk: int) -> HttpResponse:
    """On demand, through the connector: the tail of the log, capped, always escaped."""
    run = visible_run(request, pk)
    try:
        chunk, error = fetch_log(run, LOG_BYTES, request.GET.get("try")), ""
    except ConnectorError as exc:
        chunk, error = None, str(exc)
    lines = errors.marked_lines(chunk.text) if chunk else []
    bad = [number for number, _line, is_bad in lines if is_bad]
    return render(
        request,
        "dashboard/run_log.html",
        {
            "run": run,
            "chunk": chunk,
            "error": error,
            "lines": lines,
            "error_lines": bad,
            "open_at": last_block_start(bad),
        },
    )


def last_block_start(numbers: list[int]) -> int | None:
    """The first line of the last run of consecutive error lines: the failure that ended the
    log (its exception and stack) rather than an early warning that did not matter."""
    if not numbers:
        return None
    start = len(numbers) - 1
    while start and numbers[start - 1] == numbers[start] - 1:
        start -= 1
    return numbers[start]


@require_GET
def run_log_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The log as a file, up to LOG_DOWNLOAD_BYTES: what the page's tail leaves out."""
    run = visible_run(request, pk)
    try:
        chunk = fetch_log(run, LOG_DOWNLOAD_BYTES, request.GET.get("try"))
    except ConnectorError as exc:
        return HttpResponse(
            _("The vendor did not return the log: {error}").format(error=exc) + "\n",
            status=502,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(chunk.text, content_type="text/plain; charset=utf-8")
    name = re.sub(r"[^\w.-]+", "_", run.external_id).strip("._")[:100] or "run"
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.log")
    return response


def fetch_log(run: Instance, max_bytes: int, try_number: str | None = None):
    """The tail of a run's log (or of one of its earlier tries'), through its backend's
    connector."""
    locator = run.log_locator
    if try_number is not None:
        number = int(try_number) if try_number.isdigit() else 0
        locator = get_object_or_404(run.tries, number=number).log_locator
    if not locator:
        raise Http404("this run has no log")
    connector = CONNECTORS[run.backend.kind](run.backend.connector_config())
    return connector.fetch_log(run.external_id, locator, max_bytes)


@require_GET
def backends(request: HttpRequest) -> HttpResponse:
    rows = []
    operated = set(roles.teams_where(request.user, Role.OPERATOR).values_list("pk", flat=True))
    for backend in Backend.objects.visible_to(request.user).order_by("name"):
        polls = list(Poll.objects.filter(backend=backend).order_by("-started_at")[:30])
        latest = polls[0] if polls else None
        rows.append(
            {
                "backend": backend,
                "age": backend.data_age,
                "stale": backend.is_stale,
                "errors": sum(p.outcome == Poll.Outcome.ERROR for p in polls),
                "polls": polls[::-1],
                "failing": backend.consecutive_failures > 0,
                "partial": latest if latest and latest.skipped else None,
                "operates": backend.team_id in operated,
                "pushed": backend.kind in PUSHED_KINDS,
                # a push backend heard nothing for as long as a polled one goes stale: quiet
                # (its scheduler may have nothing to run), never called stale nor healthy
                "quiet": backend.kind in PUSHED_KINDS
                and (
                    backend.data_age is None
                    or backend.data_age > backend.poll_interval * STALE_AFTER
                ),
            }
        )
    return render(request, "dashboard/backends.html", {"rows": rows})


@require_POST
def poll_now(request: HttpRequest, pk: int) -> HttpResponse:
    backend = get_object_or_404(Backend.objects.visible_to(request.user), pk=pk)
    if not roles.may(request.user, Role.OPERATOR, backend.team_id):
        raise Http404
    if backend.kind in PUSHED_KINDS:
        return HttpResponse(
            said(_("{name} is not polled: its scheduler pushes."), backend), status=409
        )
    try:
        tasks.poll_backend.delay(backend.pk)
    except OperationalError as exc:  # the broker is down: say so, beat will poll when it is back
        log.error("Poll of backend %s not queued: %s", backend.pk, exc)
        return HttpResponse(
            said(_("Poll of {name} not queued: the task queue is unreachable."), backend),
            status=503,
        )
    return HttpResponse(said(_("Poll of {name} queued."), backend))


def said(sentence: str, backend: Backend) -> str:
    """One of Poll now's answers, swapped into the page: the backend's name escaped."""
    return format_html(sentence, name=backend.name)


def counters(request: HttpRequest) -> dict:
    """Top-bar numbers on every page, counted only when a template shows them (the live part
    of a run's page does not): top-level runs of the last 24 h (visible runs only) running
    and failed, read from the rollups exactly as the overview counts them."""
    if not request.user.is_authenticated:
        return {}
    return {"top": SimpleLazyObject(lambda: top_bar(request.user))}


def top_bar(user) -> SimpleNamespace:
    scope = ReadScope.of(user, QueryDict("window=24h")).counted()
    counts = summaries.by_status(scope)
    alerts = Alert.objects.visible_to(user).needing_attention().count()
    return SimpleNamespace(
        failing_channels=Channel.objects.visible_to(user).failing().count(),
        running=counts[Status.RUNNING],
        failed=counts[Status.FAILED],
        running_query=scope.runs_query(status=Status.RUNNING),
        alerts=alerts,
    )

"""Triage views: the failure inbox (what is broken now, grouped) and one definition's
run-history grid (its last runs × their steps)."""

from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import Count, Max, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard import summaries
from dashboard.filters import WINDOWS, moment, text
from dashboard.inbox_rows import inbox_rows
from dashboard.scope import ReadScope
from instances import errors, failures
from instances.acting.offers import offers_of_runs
from instances.alerts.models import Alert, AlertRule
from instances.models import Backend, Instance, Status
from instances.status import CULPRITS

INBOX_GROUPS = 100  # the newest broken things first; the run list has the rest
GRID_RUNS = 25
STEPS_PER_PAGE = 100


def alerts_for(user, groups) -> dict[tuple[int, str, str], Alert]:
    """The firing alert of each (backend, definition, signature) group, if any: the inbox
    says who acknowledged it."""
    firing = (
        Alert.objects.visible_to(user)
        .filter(
            state=Alert.State.FIRING,
            rule__kind=AlertRule.Kind.FAILED,
            backend__in={b for b, _, _ in groups},
            definition_id__in={d for _, d, _ in groups},
        )
        .select_related("acknowledged_by")
    )
    return {(a.backend_id, a.definition_id, a.signature): a for a in firing}


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    query = request.GET.copy()
    query.setdefault("window", "7d")
    # the run list's filters, but always failed top-level runs
    scope = ReadScope.of(
        request.user, query, statuses=[Status.FAILED], exclude_statuses=[], roots_only=True
    )
    chosen = scope.filter
    failed = scope.runs().order_by()
    failures.sign_unsigned(failed)
    # grouped in SQL (the failed-root index holds every grouped column): no pass over runs
    summary = list(
        failed.values("backend_id", "definition_id", "failure_signature")
        .annotate(count=Count("pk"), first=Min("run_at"), last=Max("run_at"))
        .order_by("-last")[:INBOX_GROUPS]
    )
    keys = [(g["backend_id"], g["definition_id"], g["failure_signature"]) for g in summary]
    # the newest run of each group: its time is the group's last; a run of another group at
    # one of those times is read too, and dropped below
    fields = (*failures.FIELDS, "backend", "failure_signature", "status", "external_id", "parent")
    shown = (
        failed.filter(
            run_at__in={g["last"] for g in summary},
            backend__in={k[0] for k in keys},
            definition_id__in={k[1] for k in keys},
        )
        .select_related("backend")
        .only(*fields)
        .order_by("run_at", "pk")
    )
    latest = {
        key: run
        for run in shown
        if (key := (run.backend_id, run.definition_id, run.failure_signature)) in keys
    }
    failing_child = failures.culprit_steps(list(latest.values()))
    streaks = failures.streaks(list(latest.values()))
    groups: OrderedDict = OrderedDict()
    for group, key in zip(summary, keys, strict=True):
        run = latest[key]
        child = failing_child.get(run.pk)
        groups[key] = {
            "backend": run.backend,
            "definition_id": run.definition_id,
            "name": run.definition_name or run.name,
            "signature": key[2],
            "kind": errors.kind(failures.error_of(run, child)),
            "latest": run,
            "child": child,
            "count": group["count"],
            "first": group["first"],
            "last": group["last"],
            "streak": streaks[run.pk],
        }
    alerting = alerts_for(request.user, groups)
    acting = offers_of_runs(request.user, list(latest.values()))
    for key, group in groups.items():
        group["alert"] = alerting.get(key)
        # the run's plain moves that may be done now; careful ones (and why not) on its page
        group["offers"] = [
            o for o in acting.get(group["latest"].pk, []) if not o.why_not and not o.move.careful
        ]
    shown_groups = list(groups.values())[:INBOX_GROUPS]
    return render(
        request,
        "dashboard/inbox.html",
        {
            "groups": shown_groups,
            "rows": inbox_rows(shown_groups, query.urlencode()),
            "stuck": summaries.stuck(scope.backends()),
            "filter": chosen,
            "windows": list(WINDOWS),
            "backends": Backend.objects.visible_to(request.user).order_by("name"),
        },
    )


@require_GET
def definition(request: HttpRequest, backend_id: int) -> HttpResponse:
    backend = get_object_or_404(Backend.objects.visible_to(request.user), pk=backend_id)
    definition_id = text(request.GET, "id")
    history = Instance.objects.filter(backend=backend, definition_id=definition_id).roots()
    if before := moment(request.GET.get("before", "")):
        history = history.filter(run_at__lt=before)
    runs = list(history.order_by("-run_at")[:GRID_RUNS])
    if not runs and not before:
        raise Http404("no runs of this definition")
    failing_only = request.GET.get("failing") == "1"
    rows, shown = step_rows(runs, request.GET.get("steps_page", ""), failing_only)
    finished = [r for r in runs if r.status in (Status.SUCCEEDED, Status.FAILED)]
    rate = (
        (sum(r.status == Status.SUCCEEDED for r in finished) / len(finished)) if finished else None
    )
    longest = max((r.duration.total_seconds() for r in runs if r.duration), default=0) or 1
    heights = [
        (r, 100 * r.duration.total_seconds() / longest if r.duration else 0) for r in reversed(runs)
    ]
    trend = [(r, f"{100 - h:.1f}", f"{h:.1f}") for r, h in heights]  # bars grow from the bottom
    return render(
        request,
        "dashboard/definition.html",
        {
            "backend": backend,
            "definition_id": definition_id,
            "runs": runs,
            "rows": rows,
            "steps": shown,
            "statuses": Status,
            "failing_only": failing_only,
            "rate": rate,
            "trend": trend,
            "older": runs[-1].run_at.isoformat() if len(runs) == GRID_RUNS else "",
            "name": (runs[0].definition_name or runs[0].name) if runs else definition_id,
        },
    )


@dataclass
class StepPage:
    number: int
    pages: int
    total: int  # rows across the pages
    failing: int  # steps that failed (or were canceled) in one of the runs at least


def step_rows(
    runs: list[Instance], page: str, failing_only: bool = False
) -> tuple[list[tuple[str, list]], StepPage]:
    """The grid's rows: one per step, matched across runs by its definition id (else its
    name), in the order the steps ran; a cell per run, newest first. 25 × 400 cells: plain
    tuples from one query, not model instances. STEPS_PER_PAGE rows a page; `failing_only`:
    only the steps that failed in one of these runs (in a 2,000-step flow, the ones to see)."""
    names: dict[str, str] = {}
    cells: dict[tuple[str, int], tuple[int, str]] = {}
    failing: set[str] = set()
    children = Instance.objects.filter(parent__in=runs).order_by("started_at", "id")
    for pk, parent, definition, name, status in children.values_list(
        "pk", "parent_id", "definition_id", "name", "status"
    ):
        step = definition or name
        names.setdefault(step, name)
        cells[(step, parent)] = (pk, status)
        if status in CULPRITS:
            failing.add(step)
    chosen = [key for key in names if key in failing] if failing_only else list(names)
    pages = max(1, -(-len(chosen) // STEPS_PER_PAGE))
    number = min(int(page), pages) if page.isdigit() and int(page) > 0 else 1
    keys = chosen[(number - 1) * STEPS_PER_PAGE : number * STEPS_PER_PAGE]
    rows = [(names[key], [cells.get((key, run.pk)) for run in runs]) for key in keys]
    return rows, StepPage(number, pages, len(chosen), len(failing))

"""The landing page: what ran, what failed and what is stuck, per window and scope."""

from django.contrib.auth.models import Group
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET

from dashboard import charts, summaries
from dashboard.filters import is_id, text
from dashboard.preferences import ReaderRequest
from dashboard.scope import ReadScope
from instances.models import Backend, Status

TRENDS = 5  # duration charts on the overview


def scope_of(request: HttpRequest) -> summaries.Scope:
    return ReadScope.of(request.user, request.GET).counted()


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    counts = summaries.by_status(scope)
    before = summaries.by_status(scope.previous())
    rate, previous_rate = summaries.success_rate(counts), summaries.success_rate(before)
    worst = summaries.worst_definitions(scope)
    window = request.GET.get("window", "24h")
    context = {
        "window": window if window in [*summaries.WINDOWS, "custom"] else "24h",
        "windows": [*summaries.WINDOWS, "custom"],
        "start": request.GET.get("start", ""),
        "end": request.GET.get("end", ""),
        "backends": Backend.objects.visible_to(request.user).order_by("name"),
        "teams": Group.objects.filter(
            pk__in=Backend.objects.visible_to(request.user).values("team")
        ).order_by("name"),
        "chosen_backend": request.GET.get("backend", ""),
        "chosen_team": request.GET.get("team", ""),
        "counts": counts,
        "statuses": Status,
        # every status with its count, 0 included: every number links to exactly its runs
        "by_status": [(status, counts.get(status.value, 0)) for status in Status],
        "rate": rate,
        "change": rate - previous_rate if rate is not None and previous_rate is not None else None,
        "matrix": summaries.matrix(scope),
        "worst": worst,
        # duration trends of the most-failing definitions that have durations at all
        "trends": [item for item in worst if item["p50"] is not None][:TRENDS],
        "stuck": summaries.stuck(scope.backends),
        "total": sum(counts.values()),
        "query": request.GET.urlencode(),
        "runs_query": scope.runs_query(
            **{key: request.GET[key] for key in ("backend", "team") if request.GET.get(key)}
        ),
    }
    return render(request, "dashboard/overview.html", context)


# The chart is an image document: pygal's own <style> may apply inside it; no script runs.
@csp_override({"default-src": ["'none'"], "style-src": ["'unsafe-inline'"]})
@require_GET
def runs_chart(request: ReaderRequest) -> HttpResponse:
    scope = scope_of(request)
    buckets, per_status, daily = summaries.series(scope)
    svg = charts.stacked_runs(buckets, per_status, daily, request.theme)
    return HttpResponse(svg, content_type="image/svg+xml")


@csp_override({"default-src": ["'none'"], "style-src": ["'unsafe-inline'"]})
@require_GET
def duration_chart(request: ReaderRequest) -> HttpResponse:
    """One definition's p50/p95 duration over the window (its backend must be in scope)."""
    scope = scope_of(request)
    backend, definition = request.GET.get("backend", ""), text(request.GET, "definition")
    if not is_id(backend) or not definition or not scope.backends.exists():
        raise Http404("no such definition in scope")  # scope holds only a visible backend
    buckets, p50, p95, daily = summaries.duration_trend(scope, int(backend), definition)
    svg = charts.duration_trend(buckets, p50, p95, daily, request.theme)
    return HttpResponse(svg, content_type="image/svg+xml")

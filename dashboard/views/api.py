"""The read-only JSON API (/api/v1/…), CSV export and Prometheus /metrics. Session or bearer
token auth; every answer is scoped by visible_to() exactly like the pages."""

import csv
import functools
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dashboard import summaries
from dashboard.api_schema import SCHEMA
from dashboard.filters import RunFilter, is_id
from instances.models import ApiToken, Backend, Edge, Instance, Rollup
from instances.status import culprits

RUN_FIELDS = ("id", "external_id", "kind", "name", "status", "vendor_status", "backend_id",
              "parent_id", "definition_id", "definition_name", "owner", "planned_at",
              "started_at", "finished_at", "duration", "attempts", "error_message")  # fmt: skip


def api(view: Callable) -> Callable:
    """Session or `Authorization: Bearer <token>`; 401 as JSON otherwise."""

    @login_not_required
    @require_GET
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = ApiToken.objects.select_related("user").filter(
                key_hash=ApiToken.hash(header[7:].strip())).first()  # fmt: skip
            if token is None or not token.user.is_active:
                return JsonResponse({"error": "invalid token"}, status=401)
            request.user = token.user
        if not request.user.is_authenticated:
            return JsonResponse({"error": "authentication required"}, status=401)
        return view(request, *args, **kwargs)

    return wrapped


def as_json(run: Instance) -> dict:
    data = {field: getattr(run, field) for field in RUN_FIELDS}
    for field in ("planned_at", "started_at", "finished_at"):
        data[field] = data[field].isoformat() if data[field] else None
    data["duration"] = run.duration.total_seconds() if run.duration else None
    return data


@api
def runs(request: HttpRequest) -> JsonResponse:
    chosen = RunFilter.from_query(request.GET)
    rows, cursor = chosen.page(chosen.apply(Instance.objects.visible_to(request.user)))
    query = request.GET.copy()
    query["after"] = cursor or ""
    next_url = f"{reverse('api_runs')}?{query.urlencode()}" if cursor else None
    return JsonResponse({"runs": [as_json(r) for r in rows], "next": next_url})


@api
def run(request: HttpRequest, pk: str) -> JsonResponse:
    visible = Instance.objects.visible_to(request.user)
    found = visible.filter(pk=int(pk)).first() if is_id(pk) else None
    if found is None:
        return JsonResponse({"error": "not found"}, status=404)
    edges = list(Edge.objects.filter(parent=found).values_list("upstream_id", "downstream_id"))
    children = list(found.children.only("status", "started_at").order_by("started_at", "id"))
    failing = culprits(found.status, children, edges)
    return JsonResponse(as_json(found) | {
        "children": [child.pk for child in children],
        "failing_step": failing[0].pk if failing else None,
        "edges": [list(edge) for edge in edges], "raw": found.raw})  # fmt: skip


@api
def summary(request: HttpRequest) -> JsonResponse:
    window = request.GET.get("window", "24h")
    scope = summaries.Scope.for_request(request.user, window, request.GET.get("backend", ""),
                                        request.GET.get("team", ""))  # fmt: skip
    counts = summaries.by_status(scope)
    return JsonResponse({"window": window if window in summaries.WINDOWS else "24h",
                         "by_status": counts,
                         "success_rate": summaries.success_rate(counts)})  # fmt: skip


def backend_json(backend: Backend) -> dict:
    success = backend.last_success_at
    return {"id": backend.pk, "name": backend.name, "kind": backend.kind,
            "enabled": backend.enabled,
            "last_success_at": success.isoformat() if success else None,
            "consecutive_failures": backend.consecutive_failures,
            "last_error": backend.last_error,
            "last_latency_ms": backend.last_latency_ms}  # fmt: skip


@api
def backends(request: HttpRequest) -> JsonResponse:
    found = Backend.objects.visible_to(request.user).order_by("name")
    return JsonResponse({"backends": [backend_json(b) for b in found]})


@login_not_required
@require_GET
def schema(request: HttpRequest) -> JsonResponse:
    return JsonResponse(SCHEMA)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """A cell no spreadsheet runs as a formula: vendor text starting like one gets a leading
    `'` (OWASP's CSV injection advice); numbers and times are not text and stay as they are."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


class Echo:
    def write(self, value: str) -> str:
        return value


@api
def runs_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Any run-list view as CSV, streamed row by row: constant memory at any size."""
    chosen = RunFilter.from_query(request.GET)
    runs = chosen.apply(Instance.objects.visible_to(request.user)).order_by("-run_at", "-id")
    writer = csv.writer(Echo())

    def lines():
        # a byte-order mark, or Excel reads UTF-8 (Chinese names) as a local code page
        yield "\ufeff" + writer.writerow(CSV_COLUMNS.values())
        for row in runs.values_list(*CSV_COLUMNS).iterator(chunk_size=5000):
            yield writer.writerow([cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = f"runboard-runs-{timezone.localdate():%Y-%m-%d}-{chosen.window}.csv"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# field → column heading
CSV_COLUMNS = {
    "id": "id", "backend__name": "backend", "kind": "kind", "name": "name", "status": "status",
    "vendor_status": "vendor_status", "external_id": "vendor_id",
    "definition_id": "definition_id", "owner": "owner", "planned_at": "planned_at",
    "started_at": "started_at", "finished_at": "finished_at", "duration": "duration_seconds",
    "attempts": "attempts",
}  # fmt: skip


def cell(value):
    """A CSV cell: durations in seconds (a number a spreadsheet can sum), text made inert."""
    return value.total_seconds() if isinstance(value, timedelta) else inert(value)


@api
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format (prometheus-client), scoped like everything else: gauges, as
    every figure here can go down (retention prunes runs; a backend recovers)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(VisibleMetrics(Backend.objects.visible_to(request.user)))
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class VisibleMetrics(Collector):
    """What one reader may see, collected when scraped."""

    def __init__(self, backends):
        self.backends = list(backends)

    def collect(self):
        now = timezone.now()
        names = {b.pk: b.name for b in self.backends}
        runs = GaugeMetricFamily("runboard_runs", "Top-level runs stored, by backend and status.",
                                 labels=["backend", "status"])  # fmt: skip
        for row in (Rollup.objects.filter(backend__in=names, top_level=True)
                    .values("backend", "status").annotate(n=Sum("runs")).order_by()):  # fmt: skip
            runs.add_metric([names[row["backend"]], row["status"]], row["n"])
        failed = GaugeMetricFamily("runboard_failures_24h",
                                   "Failed top-level runs in the last 24 hours.",
                                   labels=["backend"])  # fmt: skip
        for row in (Rollup.objects.filter(backend__in=names, top_level=True, status="FAILED",
                                          hour__gte=now - summaries.WINDOWS["24h"])
                    .values("backend").annotate(n=Sum("runs")).order_by()):  # fmt: skip
            failed.add_metric([names[row["backend"]]], row["n"])
        yield from (runs, failed)
        for name, help_text, value in (
            ("poll_latency_seconds", "Duration of the last poll.",
             lambda b: (b.last_latency_ms or 0) / 1000),
            ("lag_seconds", "Seconds since the last successful poll (-1: never).",
             lambda b: (now - b.last_success_at).total_seconds() if b.last_success_at else -1),
            ("poll_errors", "Consecutive failed polls.", lambda b: b.consecutive_failures),
        ):  # fmt: skip
            gauge = GaugeMetricFamily(f"runboard_backend_{name}", help_text, labels=["backend"])
            for backend in self.backends:
                gauge.add_metric([backend.name], value(backend))
            yield gauge

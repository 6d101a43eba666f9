"""CSV export and Prometheus /metrics, for scripts and scrapers as well as browsers: session or
bearer token auth; every answer is scoped by visible_to() exactly like the pages. (The JSON
API is dashboard/api.py.)"""

import csv
import functools
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dashboard import summaries
from dashboard.scope import ReadScope
from instances.alerts.models import Channel, Delivery
from instances.models import ApiToken, Backend, StatusRollup

RUN_FIELDS = (
    "id",
    "external_id",
    "kind",
    "name",
    "status",
    "vendor_status",
    "backend_id",
    "parent_id",
    "definition_id",
    "definition_name",
    "owner",
    "planned_at",
    "started_at",
    "finished_at",
    "duration",
    "attempts",
    "error_message",
)


def api(view: Callable) -> Callable:
    """Session or `Authorization: Bearer <token>`; 401 as JSON otherwise."""

    @login_not_required
    @require_GET
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            user = ApiToken.user_for(header[7:])
            if user is None:
                return JsonResponse({"error": "invalid token"}, status=401)
            request.user = user
        if not request.user.is_authenticated:
            return JsonResponse({"error": "authentication required"}, status=401)
        return view(request, *args, **kwargs)

    return wrapped


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
    scope = ReadScope.of(request.user, request.GET)
    runs = scope.runs().order_by("-run_at", "-id")
    writer = csv.writer(Echo())

    def lines():
        # a byte-order mark, or Excel reads UTF-8 (Chinese names) as a local code page
        yield "\ufeff" + writer.writerow(CSV_COLUMNS.values())
        for row in runs.values_list(*CSV_COLUMNS).iterator(chunk_size=5000):
            yield writer.writerow([cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = f"runboard-runs-{timezone.localdate():%Y-%m-%d}-{scope.filter.window}.csv"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# field → column heading
CSV_COLUMNS = {
    "id": "id",
    "backend__name": "backend",
    "kind": "kind",
    "name": "name",
    "status": "status",
    "vendor_status": "vendor_status",
    "external_id": "vendor_id",
    "definition_id": "definition_id",
    "owner": "owner",
    "planned_at": "planned_at",
    "started_at": "started_at",
    "finished_at": "finished_at",
    "duration": "duration_seconds",
    "attempts": "attempts",
}


def cell(value):
    """A CSV cell: durations in seconds (a number a spreadsheet can sum), text made inert."""
    return value.total_seconds() if isinstance(value, timedelta) else inert(value)


@api
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format (prometheus-client), scoped like everything else: gauges, as
    every figure here can go down (retention prunes runs; a backend recovers)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        VisibleMetrics(
            Backend.objects.visible_to(request.user), Channel.objects.visible_to(request.user)
        )
    )
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class VisibleMetrics(Collector):
    """What one reader may see, collected when scraped."""

    def __init__(self, backends, channels):
        self.backends = list(backends)
        self.channels = channels

    def collect(self):
        now = timezone.now()
        names = {b.pk: b.name for b in self.backends}
        runs = GaugeMetricFamily(
            "runboard_runs",
            "Top-level runs by backend and current status, pruned ones included (hourly counters).",
            labels=["backend", "status"],
        )
        for row in (
            StatusRollup.objects.filter(backend__in=names, top_level=True)
            .values("backend", "status")
            .annotate(n=Sum("runs"))
            .order_by()
        ):
            runs.add_metric([names[row["backend"]], row["status"]], row["n"])
        failed = GaugeMetricFamily(
            "runboard_failures_24h",
            "Failed top-level runs in the last 24 hours.",
            labels=["backend"],
        )
        for failures in (
            StatusRollup.objects.filter(
                backend__in=names,
                top_level=True,
                status="FAILED",
                hour__gte=now - summaries.WINDOWS["24h"],
            )
            .values("backend")
            .annotate(n=Sum("runs"))
            .order_by()
        ):
            failed.add_metric([names[failures["backend"]]], failures["n"])
        yield from (runs, failed)
        for name, help_text, value in (
            (
                "poll_latency_seconds",
                "Duration of the last poll.",
                lambda b: (b.last_latency_ms or 0) / 1000,
            ),
            (
                "lag_seconds",
                "Seconds since the last successful poll (-1: never).",
                lambda b: (now - b.last_success_at).total_seconds() if b.last_success_at else -1,
            ),
            ("poll_errors", "Consecutive failed polls.", lambda b: b.consecutive_failures),
        ):
            gauge = GaugeMetricFamily(f"runboard_backend_{name}", help_text, labels=["backend"])
            for backend in self.backends:
                gauge.add_metric([backend.name], value(backend))
            yield gauge
        yield from self.deliveries()

    def deliveries(self):
        """Alert messages per channel and state (dead: given up), and which channels fail."""
        counted = GaugeMetricFamily(
            "runboard_alert_deliveries",
            "Alert messages by channel and state (pending, sent, dead: given up).",
            labels=["channel", "state"],
        )
        for row in (
            Delivery.objects.filter(channel__in=self.channels)
            .values("channel__name", "state")
            .annotate(n=Count("id"))
            .order_by()
        ):
            counted.add_metric([row["channel__name"], row["state"]], row["n"])
        failing = GaugeMetricFamily(
            "runboard_alert_channel_failing",
            "1 when a channel's messages are not getting through (retrying, or given up today).",
            labels=["channel"],
        )
        down = set(self.channels.failing().values_list("pk", flat=True))
        for channel in self.channels:
            failing.add_metric([channel.name], int(channel.pk in down))
        yield from (counted, failing)

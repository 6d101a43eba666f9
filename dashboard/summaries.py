"""Summary numbers for managers and triage, read from the hourly rollups (never a scan of the
raw runs) and always scoped to the backends a user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import batched
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from instances.models import Backend, Instance, Rollup, Status, StatusRollup
from instances.rollups import hour_of, usual_durations

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
# A running run is stuck when its status has not moved for this long (settings), or when it
# has run OVERDUE_FACTOR times its definition's usual duration (the mean of its successful
# runs over USUAL_WINDOW) and at least OVERDUE_MARGIN more.
OVERDUE_FACTOR = 3
OVERDUE_MARGIN = timedelta(minutes=5)
STUCK_CANDIDATES = 200  # running top-level runs looked at, longest-running first ...
STUCK_CHUNK = 40  # ... so many at a time, until the list is full


@dataclass
class Scope:
    """Backends over a window: what the rollups count (built by dashboard.scope.ReadScope)."""

    backends: QuerySet[Backend]
    start: datetime
    end: datetime

    def runs_query(self, **more: str) -> str:
        """The run list's query for exactly the top-level runs this scope counts, plus `more`
        (a status, a backend, a definition)."""
        return urlencode(
            {
                "roots": "1",
                "window": "custom",
                "since": self.start.isoformat(),
                "until": self.end.isoformat(),
                **more,
            }
        )

    def previous(self) -> Scope:
        return Scope(self.backends, self.start - (self.end - self.start), self.start)

    def rollups(self) -> QuerySet[Rollup]:
        return Rollup.objects.filter(
            backend__in=self.backends, top_level=True, hour__gte=self.start, hour__lt=self.end
        )

    def status_rollups(self) -> QuerySet[StatusRollup]:
        return StatusRollup.objects.filter(
            backend__in=self.backends, top_level=True, hour__gte=self.start, hour__lt=self.end
        )


def by_status(scope: Scope) -> dict[str, int]:
    counts = {status.value: 0 for status in Status}
    for row in scope.status_rollups().values("status").annotate(n=Sum("runs")):
        counts[row["status"]] = row["n"]
    return counts


def success_rate(counts: dict[str, int]) -> float | None:
    finished = counts["SUCCEEDED"] + counts["FAILED"]
    return None if not finished else counts["SUCCEEDED"] / finished


def series(scope: Scope) -> tuple[list[datetime], dict[str, list[int]], bool]:
    """Runs per status per hour (24 h) or per day (longer windows), gaps filled with zero."""
    buckets, daily = buckets_of(scope)
    bucket = TruncDay("hour") if daily else F("hour")
    rows = scope.status_rollups().annotate(bucket=bucket).values("bucket", "status")
    found = {(r["bucket"], r["status"]): r["n"] for r in rows.annotate(n=Sum("runs"))}
    per_status = {s.value: [found.get((b, s.value), 0) for b in buckets] for s in Status}
    return buckets, per_status, daily


def buckets_of(scope: Scope) -> tuple[list[datetime], bool]:
    """The chart buckets of a window: hours up to two days, days beyond."""
    daily = scope.end - scope.start > timedelta(hours=48)
    first = bucket_of(scope.start, daily)
    step = timedelta(days=1) if daily else timedelta(hours=1)
    buckets = []
    while first < scope.end:
        buckets.append(first)
        first += step
    return buckets, daily


def bucket_of(moment: datetime, daily: bool) -> datetime:
    hour = hour_of(moment)
    return hour.replace(hour=0) if daily else hour


DURATION_SAMPLE = 5000  # newest runs a duration trend is computed from


Line = list[float | None]


def duration_trend(
    scope: Scope, backend_id: int, definition_id: str
) -> tuple[list[datetime], Line, Line, bool]:
    """p50 and p95 duration (seconds) of a definition's top-level runs per bucket."""
    buckets, daily = buckets_of(scope)
    rows = (
        Instance.objects.filter(
            backend__in=scope.backends,
            backend=backend_id,
            definition_id=definition_id,
            parent__isnull=True,
            duration__isnull=False,
        )
        .in_window(scope.start, scope.end)
        .order_by("-run_at")
        .values_list("run_at", "duration")[:DURATION_SAMPLE]
    )
    per_bucket: dict[datetime, list[float]] = {}
    for run_at, duration in rows:
        per_bucket.setdefault(bucket_of(run_at, daily), []).append(duration.total_seconds())
    p50 = [percentile(per_bucket.get(b), 0.5) for b in buckets]
    p95 = [percentile(per_bucket.get(b), 0.95) for b in buckets]
    return buckets, p50, p95, daily


def percentile(values: list[float] | None, fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def matrix(scope: Scope) -> list[tuple[Backend, dict[str, int]]]:
    cells: dict[int, dict[str, int]] = {}
    for row in scope.status_rollups().values("backend", "status").annotate(n=Sum("runs")):
        cells.setdefault(row["backend"], {})[row["status"]] = row["n"]
    return [(b, cells.get(b.pk, {})) for b in scope.backends.order_by("name")]


def worst_definitions(scope: Scope, limit: int = 10) -> list[dict]:
    """Definitions by failures, with their success rate and mean duration."""
    failing = (
        scope.rollups()
        .filter(status=Status.FAILED)
        .values("backend", "definition_id")
        .annotate(n=Sum("runs"))
        .order_by("-n")[:limit]
    )
    if not failing:
        return []
    wanted = Q()
    for row in failing:
        wanted |= Q(backend=row["backend"], definition_id=row["definition_id"])
    rows = (
        scope.rollups().filter(wanted).values("backend", "backend__name", "definition_id", "status")
    )
    totals: dict[tuple, dict] = {}
    for row in rows.annotate(
        n=Sum("runs"), seconds=Sum("duration_seconds"), timed=Sum("timed_runs")
    ):
        key = (row["backend"], row["definition_id"])
        item = totals.setdefault(
            key,
            {
                "backend": row["backend"],
                "backend_name": row["backend__name"],
                "definition_id": row["definition_id"],
                "runs": 0,
                "failed": 0,
                "succeeded": 0,
                "seconds": 0.0,
                "timed": 0,
            },
        )
        item["runs"] += row["n"]
        item["failed"] += row["n"] if row["status"] == Status.FAILED else 0
        item["succeeded"] += row["n"] if row["status"] == Status.SUCCEEDED else 0
        item["seconds"] += row["seconds"] or 0
        item["timed"] += row["timed"] or 0
    for item in totals.values():
        done = item["failed"] + item["succeeded"]
        item["rate"] = item["succeeded"] / done if done else None
        item["mean_seconds"] = item["seconds"] / item["timed"] if item["timed"] else None
    ranked = sorted(totals.values(), key=lambda i: (-i["failed"], i["rate"] or 0))
    worst = [i for i in ranked if i["failed"]][:limit]
    add_duration_percentiles(scope, worst)
    return worst


def add_duration_percentiles(scope: Scope, items: list[dict], per_item: int = 200) -> None:
    """p50/p95 duration of each definition's latest runs (raw runs, but a bounded few), and
    the definition's name as its newest run gives it."""
    if not items:
        return
    wanted = Q()
    for item in items:
        wanted |= Q(backend=item["backend"], definition_id=item["definition_id"])
    durations: dict[tuple, list[float]] = {}
    rows = (
        Instance.objects.filter(wanted, parent__isnull=True, run_at__gte=scope.start)
        .order_by("-run_at")
        .values_list("backend", "definition_id", "duration", "definition_name")
    )
    names: dict[tuple, str] = {}
    for backend, definition_id, duration, name in rows[: per_item * len(items)]:
        names.setdefault((backend, definition_id), name)
        if duration is not None:
            durations.setdefault((backend, definition_id), []).append(duration.total_seconds())
    for item in items:
        key = (item["backend"], item["definition_id"])
        found = durations.get(key)
        item["p50"], item["p95"] = percentile(found, 0.5), percentile(found, 0.95)
        item["name"] = names.get(key) or item["definition_id"]


@dataclass
class Stuck:
    run: Instance
    running_for: timedelta
    usual: timedelta | None  # the definition's usual duration, when it made the run stuck
    unchanged_for: timedelta | None  # how long the status has not moved, when that did


def stuck(backends: QuerySet[Backend], limit: int = 20) -> list[Stuck]:
    """Running top-level runs of these backends that are stuck, longest-running first: the
    oldest STUCK_CANDIDATES, fetched a chunk at a time until `limit` are found."""
    now = timezone.now()
    running = (
        Instance.objects.filter(backend__in=backends, parent__isnull=True, status=Status.RUNNING)
        .select_related("backend")
        .only("name", "backend__name", "definition_id", "run_at", "started_at", "status_changed_at")
        .order_by("run_at")[:STUCK_CANDIDATES]
    )
    silent_after = timedelta(minutes=settings.RUNBOARD_STUCK_AFTER_MINUTES)
    found: list[Stuck] = []
    for chunk in batched(running.iterator(chunk_size=STUCK_CHUNK), STUCK_CHUNK):
        usual = usual_durations(chunk, now)
        for run in chunk:
            running_for = now - (run.started_at or run.run_at)
            typical = usual.get((run.backend_id, run.definition_id))
            overdue = typical is not None and running_for > max(
                typical * OVERDUE_FACTOR, typical + OVERDUE_MARGIN
            )
            silent = now - run.status_changed_at
            if overdue or silent > silent_after:
                found.append(
                    Stuck(
                        run,
                        running_for,
                        typical if overdue else None,
                        silent if silent > silent_after else None,
                    )
                )
        if len(found) >= limit:
            break
    return found[:limit]

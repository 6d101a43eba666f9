"""Hourly counters of runs (see models.Rollup), moved by sync as runs appear and change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncHour

from . import bulk
from .models import Instance, Rollup, StatusRollup
from .status import Status

# (kind, top_level, definition_id, status, hour) → [runs, duration_seconds, timed_runs]
Bucket = tuple[str, bool, str, str, datetime]
Deltas = defaultdict[Bucket, list]


def new_deltas() -> Deltas:
    return defaultdict(lambda: [0, 0.0, 0])


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def move(deltas: Deltas, old: tuple | None, new: tuple) -> None:
    """old/new: (kind, top_level, definition_id, status, run_at, duration) of one run; old is
    None for a run seen for the first time."""
    for sign, state in ((-1, old), (1, new)):
        if state is None:
            continue
        kind, top_level, definition_id, status, run_at, duration = state
        counters = deltas[(kind, top_level, definition_id, status, hour_of(run_at))]
        counters[0] += sign
        if duration is not None:
            counters[1] += sign * duration.total_seconds()
            counters[2] += sign


COUNTERS = ("runs", "duration_seconds", "timed_runs")
ADD = {col: f"{{table}}.{col} + EXCLUDED.{col}" for col in COUNTERS}


def apply(backend_id: int, deltas: Deltas) -> None:
    rows = [
        (backend_id, *bucket, *counters)
        for bucket, counters in deltas.items()
        if counters[0] or counters[2]
    ]
    key: tuple[str, ...] = ("backend_id", "kind", "top_level", "definition_id", "status", "hour")
    bulk.upsert(Rollup, (*key, *COUNTERS), rows, key, ADD)
    coarse: dict[tuple, int] = {}
    for (_, top_level, _, status, hour), (runs, _, _) in deltas.items():
        coarse[(top_level, status, hour)] = coarse.get((top_level, status, hour), 0) + runs
    key = ("backend_id", "top_level", "status", "hour")
    rows = [(backend_id, *bucket, runs) for bucket, runs in coarse.items() if runs]
    bulk.upsert(StatusRollup, (*key, "runs"), rows, key, {"runs": ADD["runs"]})


def from_runs() -> dict[tuple, tuple[int, float, int]]:
    """The rollups computed from scratch: what the maintained counters must always equal."""
    groups = (
        Instance.objects.annotate(bucket=TruncHour("run_at"), top_level=Q(parent__isnull=True))
        .values("backend_id", "kind", "top_level", "definition_id", "status", "bucket")
        .annotate(runs=Count("id"), seconds=Sum("duration"), timed=Count("duration"))
    )
    return {
        (
            g["backend_id"],
            g["kind"],
            g["top_level"],
            g["definition_id"],
            g["status"],
            g["bucket"],
        ): (
            g["runs"],
            (g["seconds"] or timedelta()).total_seconds(),
            g["timed"],
        )
        for g in groups
    }


def rebuild() -> int:
    """Replace every counter by a recount (after bulk loads or retention pruning)."""
    fresh = from_runs()
    Rollup.objects.all().delete()
    Rollup.objects.bulk_create(
        (
            Rollup(
                backend_id=backend_id,
                kind=kind,
                top_level=top_level,
                definition_id=definition_id,
                status=status,
                hour=hour,
                runs=runs,
                duration_seconds=seconds,
                timed_runs=timed,
            )
            for (backend_id, kind, top_level, definition_id, status, hour), (
                runs,
                seconds,
                timed,
            ) in fresh.items()
        ),
        batch_size=5000,
    )
    StatusRollup.objects.all().delete()
    coarse = (
        Rollup.objects.values("backend", "top_level", "status", "hour")
        .annotate(n=Sum("runs"))
        .order_by()
    )
    StatusRollup.objects.bulk_create(
        (
            StatusRollup(
                backend_id=row["backend"],
                top_level=row["top_level"],
                status=row["status"],
                hour=row["hour"],
                runs=row["n"],
            )
            for row in coarse
        ),
        batch_size=5000,
    )
    return len(fresh)


# A definition's usual duration: the mean of its successful top-level runs over this window.
USUAL_WINDOW = timedelta(days=7)


def usual_durations(runs: Iterable[Instance], now: datetime) -> dict[tuple[int, str], timedelta]:
    """(backend, definition) → mean duration of its successful top-level runs, from rollups."""
    wanted = {(r.backend_id, r.definition_id) for r in runs if r.definition_id}
    if not wanted:
        return {}
    # two IN lists (a superset, trimmed below) keep the query on the definition index
    rows = (
        Rollup.objects.filter(
            backend__in={b for b, _ in wanted},
            definition_id__in={d for _, d in wanted},
            top_level=True,
            status=Status.SUCCEEDED,
            hour__gte=now - USUAL_WINDOW,
        )
        .values_list("backend", "definition_id")
        .annotate(seconds=Sum("duration_seconds"), timed=Sum("timed_runs"))
    )
    return {
        (backend, definition): timedelta(seconds=seconds / timed)
        for backend, definition, seconds, timed in rows
        if timed and (backend, definition) in wanted
    }

"""When a running run will finish: each step's usual duration (the median over the
definition's last successful runs), scaled by the pace of this run's finished steps (a run
whose steps took 3× their usual will likely go on so), laid along its DAG from what has
finished and what runs now. A run without steps: its own usual duration, at that pace."""

from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from graphlib import CycleError, TopologicalSorter

from django.core.cache import cache

from .models import Edge, Instance, Status

HISTORY = 10  # successful runs a step's usual duration is read from
USUAL_KEPT = 600  # s: usual durations change with a definition's next success, not each minute


def finish(run: Instance, now: datetime) -> datetime | None:
    """The predicted end of a running run, None when nothing of it is known yet (a
    definition that never succeeded)."""
    started = run.started_at or run.run_at
    steps = list(run.children.only("definition_id", "name", "status", "started_at", "finished_at"))
    usual = usual_durations(run)
    if not steps:
        whole = usual.get("")
        return max(now, started + whole) if whole else None
    pace = pace_of(steps, usual)
    upstream: dict[int, set[int]] = defaultdict(set)
    for up, down in Edge.objects.filter(parent=run).values_list("upstream", "downstream"):
        upstream[down].add(up)
    try:
        order = list(TopologicalSorter({s.pk: upstream[s.pk] for s in steps}).static_order())
    except CycleError:  # a vendor's graph with a loop: its steps one after another
        order = [s.pk for s in steps]
    by_pk = {s.pk: s for s in steps}
    ends: dict[int, datetime] = {}
    for pk in (pk for pk in order if pk in by_pk):
        step = by_pk[pk]
        if step.finished_at is not None and Status(step.status).is_terminal:
            ends[pk] = step.finished_at
            continue
        length = usual.get(key_of(step), timedelta()) * pace
        ready = max([ends[up] for up in upstream[pk] if up in ends], default=started)
        begun = step.started_at or max(ready, now)
        ends[pk] = max(now, begun + length)
    return max(ends.values(), default=None)


def pace_of(steps: list[Instance], usual: dict[str, timedelta]) -> float:
    """How much longer than usual this run's finished steps took, together (1: as usual)."""
    took = expected = 0.0
    for step in steps:
        normal = usual.get(key_of(step))
        if step.status == Status.SUCCEEDED and step.started_at and step.finished_at and normal:
            took += (step.finished_at - step.started_at).total_seconds()
            expected += normal.total_seconds()
    return took / expected if took and expected else 1.0


def key_of(step: Instance) -> str:
    return step.definition_id or step.name


def usual_durations(run: Instance) -> dict[str, timedelta]:
    """Step key → median duration over the definition's last successful runs ("": the run's
    own), kept a while: Today forecasts every running row, and the alert checks each minute
    (a definition's last ten runs of 400 steps are 4,000 rows)."""
    definition = hashlib.blake2b(run.definition_id.encode(), digest_size=16).hexdigest()
    key = f"usual-durations:{run.backend_id}:{definition}"
    usual = cache.get(key)
    if usual is None:
        usual = read_usual_durations(run)
        cache.set(key, usual, USUAL_KEPT)
    return usual


def read_usual_durations(run: Instance) -> dict[str, timedelta]:
    earlier = list(
        Instance.objects.filter(
            backend_id=run.backend_id,
            parent__isnull=True,
            definition_id=run.definition_id,
            status=Status.SUCCEEDED,
            run_at__lt=run.run_at,
        )
        .exclude(pk=run.pk)
        .order_by("-run_at")
        .values_list("pk", "started_at", "finished_at")[:HISTORY]
    )
    lengths: dict[str, list[float]] = defaultdict(list)
    for _pk, began, ended in earlier:
        if began and ended:
            lengths[""].append((ended - began).total_seconds())
    steps = Instance.objects.filter(parent__in=[pk for pk, _, _ in earlier]).values_list(
        "definition_id", "name", "started_at", "finished_at"
    )
    for definition, name, began, ended in steps:
        if began and ended:
            lengths[definition or name].append((ended - began).total_seconds())
    return {key: timedelta(seconds=statistics.median(s)) for key, s in lengths.items()}

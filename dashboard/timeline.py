"""A run's children on a time axis (Gantt bars) and its critical path: the chain of steps,
linked by DAG edges, that ended last — the one that decided the run's duration."""

from dataclasses import dataclass

from django.utils import timezone

from instances.models import Instance


@dataclass
class Bar:
    run: Instance
    left: float  # percent of the axis
    width: float
    critical: bool


def critical_path(children: list[Instance], edges: list[tuple[int, int]]) -> set[int]:
    """Walk back from the step that finished last through the upstream that finished last."""
    ends = {c.pk: c.finished_at or timezone.now() for c in children if c.started_at}
    upstream: dict[int, list[int]] = {}
    for up, down in edges:
        upstream.setdefault(down, []).append(up)
    path: set[int] = set()
    current = max(ends, key=ends.__getitem__, default=None)
    while current is not None and current not in path:
        path.add(current)
        candidates = [u for u in upstream.get(current, []) if u in ends]
        current = max(candidates, key=ends.__getitem__, default=None)
    return path


def gantt(children: list[Instance], edges: list[tuple[int, int]]) -> list[Bar]:
    started = [c for c in children if c.started_at]
    if not started:
        return []
    now = timezone.now()
    begin = min(c.started_at for c in started)
    end = max(c.finished_at or now for c in started)
    span = max((end - begin).total_seconds(), 1)
    critical = critical_path(started, edges)
    return [
        Bar(run=c, left=100 * (c.started_at - begin).total_seconds() / span,
            width=max(100 * ((c.finished_at or now) - c.started_at).total_seconds() / span, 0.3),
            critical=c.pk in critical)
        for c in sorted(started, key=lambda c: (c.started_at, c.pk))
    ]  # fmt: skip

"""A run's children on a time axis (Gantt bars) and its critical path: the chain of steps,
linked by DAG edges, that ended last — the one that decided the run's duration."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from django.utils import timezone

from dashboard.steps import Step


@dataclass
class Bar:
    run: Step
    left: float  # percent of the axis
    width: float
    critical: bool


def critical_path(children: list[Step], edges: list[tuple[int, int]]) -> set[int]:
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


ROW = 18  # px per step; the names beside the bars use the same
AXIS = 22  # px of time axis above the bars
TICK_STEPS = [
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    172800,
    604800,
]  # seconds


@dataclass
class Gantt:
    bars: list[Bar]  # the ones drawn: the first `limit` by start
    hidden: int  # steps with a start that are not drawn
    ticks: list[tuple[float, str, str]]  # (percent, time in the reader's zone, text anchor)
    now: float | None  # percent, when a step is still running

    @property
    def height(self) -> int:
        return AXIS + ROW * len(self.bars)

    @property
    def rows(self) -> list[tuple[Bar, int]]:
        """Each bar with its y in px."""
        return [(bar, AXIS + ROW * n + 3) for n, bar in enumerate(self.bars)]


def gantt(children: list[Step], edges: list[tuple[int, int]], limit: int) -> Gantt | None:
    """The steps that started, on one time axis across all of them; the first `limit` drawn."""
    started = sorted((c for c in children if c.started_at), key=lambda c: (c.started_at, c.pk))
    if not started:
        return None
    now = timezone.now()
    begin = cast(datetime, started[0].started_at)  # every one in `started` has a start
    end = max(c.finished_at or now for c in started)
    span = max((end - begin).total_seconds(), 1)
    critical = critical_path(started, edges)

    def percent(moment) -> float:
        return 100 * (moment - begin).total_seconds() / span

    bars = [
        Bar(
            run=c,
            left=percent(c.started_at),
            width=max(percent(c.finished_at or now) - percent(c.started_at), 0.3),
            critical=c.pk in critical,
        )
        for c in started[:limit]
    ]
    now_at = percent(now) if any(c.finished_at is None for c in started) else None
    return Gantt(bars, len(started) - len(bars), ticks(begin, end), now_at)


def ticks(begin, end, most: int = 8) -> list[tuple[float, str, str]]:
    """Round times across [begin, end], at most `most`, labelled in the reader's zone."""
    span = max((end - begin).total_seconds(), 1)
    step = next((s for s in TICK_STEPS if span / s <= most), TICK_STEPS[-1])
    first = -(-begin.timestamp() // step) * step
    moments = [datetime.fromtimestamp(first + n * step, UTC) for n in range(int(span // step) + 1)]
    shape = "%m-%d %H:%M" if span > 86400 else "%H:%M:%S" if step < 60 else "%H:%M"
    placed = [
        (100 * (m - begin).total_seconds() / span, timezone.localtime(m).strftime(shape))
        for m in moments
        if m <= end
    ]
    # labels at the edges grow inwards, so none is cut off
    return [(x, label, "start" if x < 5 else "end" if x > 95 else "middle") for x, label in placed]

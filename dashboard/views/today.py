"""Today: what each scheduled definition of the reader's teams was expected to run today
(in the reader's zone), and how each expected run stands. Every number lists exactly its
expected runs, each linked to the run that came for it."""

import hashlib
from collections import Counter
from datetime import datetime, time, timedelta
from urllib.parse import quote

from django.contrib.auth.models import Group
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.scope import ReadScope
from instances import ledger
from instances.ledger import State
from instances.models import Backend

MOST_SHOWN = 100  # rows a page lists; each number lists its own
JUDGED_FOR = 60  # s: the day is judged once a minute for a set of backends
EXPECTED = "expected"  # every expected run but those of a day off
STATES = frozenset(State.values)  # once: Django's enum builds the list anew on each reading
TILES = (
    State.ON_TIME,
    State.LATE,
    State.RUNNING,
    State.RUNNING_LATE,
    State.FAILED,
    State.MISSED,
    State.DUE,
    State.UPCOMING,
    State.NOT_EXPECTED,
)


@require_GET
def today(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    start = datetime.combine(timezone.localdate(now), time(), timezone.get_current_timezone())
    scope = ReadScope.of(request.user, request.GET)
    backends = list(scope.backends())
    expected = judged(backends, start, now)
    counts = Counter(item.state for item in expected)
    chosen = request.GET.get("state", "")
    listed = [item for item in expected if keeps(chosen, item.state)]
    ledger.foresee(listed[:MOST_SHOWN], now)
    team_kept, worst = ledger.deadlines_kept([b.pk for b in backends], start.date())
    named = {(i.backend.pk, i.schedule.definition_id): i.schedule.definition_name for i in expected}
    by_id = {b.pk: b for b in backends}
    visible = Backend.objects.visible_to(request.user)
    return render(
        request,
        "dashboard/today.html",
        {
            "day": start,
            "expected": len(expected) - counts[State.NOT_EXPECTED],
            "tiles": [(state, counts[state]) for state in TILES],
            "chosen": chosen if chosen == EXPECTED or chosen in STATES else "",
            "shown": listed[:MOST_SHOWN],
            "more": max(0, len(listed) - MOST_SHOWN),
            "teams": Group.objects.filter(pk__in=visible.values("team")).order_by("name"),
            "chosen_team": request.GET.get("team", ""),
            "team_kept": rates(team_kept, start, ""),
            "kept": [
                (
                    by_id[k.backend_id],
                    k.definition_id,
                    named.get((k.backend_id, k.definition_id), ""),
                    rates(k, start, f"backend={k.backend_id}&definition={quote(k.definition_id)}"),
                )
                for k in worst
                if k.backend_id in by_id
            ],
        },
    )


def judged(backends: list[Backend], start: datetime, now: datetime) -> list[ledger.Expected]:
    """The day's ledger, judged at most once a minute for these backends: a shift's start
    opens Today many times over, and judging reads the day's thousands of runs. Kept as plain
    values (no backend's row, whose credentials stay in the database)."""
    by_id = {b.pk: b for b in backends}
    ids = hashlib.blake2b(",".join(map(str, sorted(by_id))).encode(), digest_size=16)
    key = f"today:{ids.hexdigest()}:{start.timestamp():.0f}:{now.timestamp() // JUDGED_FOR:.0f}"
    kept = cache.get(key)
    if kept is None:
        day = ledger.day(backends, start, start + timedelta(days=1), now)
        kept = [(e.backend.pk, e.schedule, e.at, e.state, e.run, e.deadline) for e in day]
        cache.set(key, kept, JUDGED_FOR)
    return [ledger.Expected(by_id[pk], *rest) for pk, *rest in kept]


def keeps(chosen: str, state: State) -> bool:
    if chosen == EXPECTED:
        return state != State.NOT_EXPECTED
    return not chosen or chosen not in STATES or state == chosen


def rates(kept: ledger.Kept, start: datetime, query: str) -> list[tuple[int, int, int, str]]:
    """(days, met, decided, the runs of those days) for 7, 30 and 90 days."""
    return [
        (
            days,
            met,
            decided,
            f"?{query}&start={(start - timedelta(days=days - 1)).date()}&window=custom",
        )
        for days, (met, decided) in kept.rates.items()
    ]

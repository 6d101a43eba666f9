"""Every platform's top-level runs on one time axis: a Gantt of a window, one band per backend,
team or data product, each band's runs packed into as few lanes as they overlap (failed runs'
lanes on top, so a full band never hides one), its deadlines as markers. Past MOST_BARS runs
in view it draws counts per hour instead (from the rollups), and says to zoom in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum, Value
from django.utils import timezone
from django.utils.html import escape

from dashboard.templatetags.runboard import run_url
from dashboard.timeline import ticks
from instances import calendars, zones
from instances.alerts.models import AlertRule
from instances.models import Backend, Instance, ProductPart, Rollup, Status, StatusRollup

MOST_BARS = 5_000  # runs drawn one by one; past this, counts per hour
MOST_LANES = 40  # lanes a band packs its runs into; runs past them are counted, not drawn
LONGEST_RUN = timedelta(days=2)  # how long before the window a run still in it may have begun
ROW = 16  # px a lane
CLOSED = datetime.max.replace(tzinfo=UTC)  # a lane no later run may take
NONE = "—"  # the band of runs without a team or data product
GROUPINGS = ("backend", "team", "product")


@dataclass
class Band:
    name: str
    lanes: list[list[str]] = field(default_factory=list)  # each lane's bars, as SVG
    ends: list[datetime] = field(default_factory=list)  # when each lane is free again
    hidden: int = 0  # runs past MOST_LANES
    hours: dict[datetime, dict[str, int]] = field(default_factory=dict)  # when aggregated
    deadlines: list[tuple[float, str]] = field(default_factory=list)  # (percent, whose)

    @property
    def height(self) -> int:
        return ROW * max(len(self.lanes), 1) + 4

    @property
    def svg(self) -> str:
        return "".join(bar for lane in self.lanes for bar in lane)


@dataclass
class Fleet:
    start: datetime
    end: datetime
    bands: list[Band]
    runs: int  # runs in view
    aggregated: bool
    ticks: list[tuple[float, str, str]]
    now: float | None

    @property
    def span(self) -> timedelta:
        return self.end - self.start


def of(backends: list[Backend], start: datetime, end: datetime, by: str) -> Fleet:
    span = (end - start).total_seconds()

    def percent(moment: datetime) -> float:
        return 100 * (moment - start).total_seconds() / span

    bands_of, names = grouping(backends, by)
    rows = list(in_view(backends, start, end)[: MOST_BARS + 1])
    aggregated = len(rows) > MOST_BARS
    bands: dict[str, Band] = {name: Band(name) for name in names}  # and "—" once a run is in it
    if aggregated:
        for backend, definition, hour, status, runs in hourly(backends, start, end, by):
            for name in bands_of(backend, definition):
                counts = bands.setdefault(name, Band(name)).hours.setdefault(hour, defaultdict(int))
                counts[status] += runs
        for band in bands.values():
            band.lanes = [[hour_bar(h, c, percent, span) for h, c in sorted(band.hours.items())]]
    else:
        said = {status.value: str(status.label) for status in Status}
        for failed in (True, False):  # failed runs' lanes first: a full band never hides one
            for pk, name, status, backend, definition, began, ended in rows:
                if (status == Status.FAILED) != failed:
                    continue
                bar = (pk, name, status, said.get(status, status), began, ended)
                for band_name in bands_of(backend, definition):
                    place(bands.setdefault(band_name, Band(band_name)), bar, start, end, percent)
            for band in bands.values():
                band.ends = [CLOSED] * len(band.ends)
    for name, marks in deadline_marks(backends, by, start, end).items():
        if name in bands:
            bands[name].deadlines = [
                (percent(due), ", ".join(sorted(w))) for due, w in sorted(marks.items())
            ]
    now = timezone.now()
    return Fleet(
        start,
        end,
        [bands[name] for name in sorted(bands, key=last_none)],
        len(rows) if not aggregated else sum(hourly_total(b) for b in bands.values()),
        aggregated,
        ticks(start, end),
        percent(now) if start <= now <= end else None,
    )


def last_none(name: str) -> tuple[bool, str]:
    return name == NONE, name


def grouping(backends: list[Backend], by: str) -> tuple[Callable[[int, str], list[str]], set[str]]:
    """Which bands a run of (backend, definition) is drawn in, and the bands drawn even with
    no run in view: a definition of two data products is drawn in both."""
    if by == "product":
        products: dict[tuple[int, str], list[str]] = defaultdict(list)
        parts = ProductPart.objects.filter(backend__in=backends)
        for backend, definition, name in parts.values_list(
            "backend_id", "definition_id", "product__name"
        ):
            products[backend, definition].append(name)
        names = {name for named in products.values() for name in named}
        return lambda backend, definition: products.get((backend, definition), [NONE]), names
    groups = {b.pk: group_of(b, by) for b in backends}
    return lambda backend, _definition: [groups[backend]], set(groups.values())


def group_of(backend: Backend, by: str) -> str:
    if by == "team":
        return backend.team.name if backend.team else NONE
    return backend.name


def in_view(backends: list[Backend], start: datetime, end: datetime):
    """(id, name, status, backend, definition, began, ended) of the top-level runs the window shows,
    by start: begun before its end, not ended before its start."""
    runs = Instance.objects.filter(
        backend__in=backends,
        parent__isnull=True,
        run_at__gte=start - LONGEST_RUN,
        run_at__lt=end,
    ).filter(Q(finished_at__isnull=True) | Q(finished_at__gt=start))
    return runs.order_by("run_at", "id").values_list(
        "pk", "name", "status", "backend_id", "definition_id", "started_at", "finished_at"
    )


def place(band: Band, bar: tuple, start: datetime, end: datetime, percent) -> None:
    """Into the band's first lane free by the run's start; a new lane if none is."""
    pk, name, status, label, began, ended = bar
    if began is None:  # waiting to start: nothing to draw yet
        return
    finish = ended or min(end, timezone.now())
    lane = next((n for n, free in enumerate(band.ends) if free <= began), None)
    if lane is None:
        if len(band.lanes) >= MOST_LANES:
            band.hidden += 1
            return
        band.lanes.append([])
        band.ends.append(finish)
        lane = len(band.lanes) - 1
    band.ends[lane] = finish
    left = percent(max(began, start))
    width = max(percent(min(finish, end)) - left, 0.15)
    when = f"{timezone.localtime(began):%m-%d %H:%M}–{timezone.localtime(finish):%H:%M}"
    band.lanes[lane].append(
        f'<a href="{run_url(pk)}"><rect class="bar {status}" x="{left:.3f}%" y="{ROW * lane + 2}"'
        f' width="{width:.3f}%" height="{ROW - 4}"><title>{escape(name)} · {label} · {when}'
        "</title></rect></a>"
    )


def hourly(backends: list[Backend], start: datetime, end: datetime, by: str):
    """(backend, definition, hour, status, runs) of the window's top-level runs: by definition
    for data products (the definitions' rollups), else all of a backend's together."""
    window = {"backend__in": backends, "top_level": True, "hour__gte": start, "hour__lt": end}
    if by == "product":
        rows = Rollup.objects.filter(**window)
        return rows.values_list("backend", "definition_id", "hour", "status").annotate(
            n=Sum("runs")
        )
    totals = StatusRollup.objects.filter(**window)
    return totals.values_list("backend", Value(""), "hour", "status").annotate(n=Sum("runs"))


def hour_bar(hour: datetime, counts: dict[str, int], percent, span: float) -> str:
    """An hour's runs as one bar, in the colour of its worst status, its counts on hover."""
    worst = next(
        (s for s in ("FAILED", "RUNNING", "CANCELED", "SUCCEEDED") if counts.get(s)), "UNKNOWN"
    )
    width = max(100 * 3600 / span - 0.1, 0.15)
    said = ", ".join(f"{Status(status).label} {n}" for status, n in sorted(counts.items()))
    return (
        f'<rect class="bar {worst}" x="{percent(hour):.3f}%" y="2" width="{width:.3f}%"'
        f' height="{ROW - 4}"><title>{timezone.localtime(hour):%m-%d %H:00}: {said}</title></rect>'
    )


def hourly_total(band: Band) -> int:
    return sum(sum(counts.values()) for counts in band.hours.values())


def late_rules(backends: list[Backend]) -> list[AlertRule]:
    """The late and late-soon rules with a deadline of the backends' teams, in one query."""
    return list(
        AlertRule.objects.filter(
            team__in={b.team_id for b in backends},
            kind__in=(AlertRule.Kind.LATE, AlertRule.Kind.LATE_SOON),
            enabled=True,
            deadline__isnull=False,
        ).select_related("product")
    )


def deadline_marks(
    backends: list[Backend], by: str, start: datetime, end: datetime
) -> dict[str, dict[datetime, set[str]]]:
    """Each band's deadlines, each moment once with the rules due then: a backend's or team's
    band shows the rules covering its backends; a data product's, the rules holding it."""
    marked: dict[str, dict[datetime, set[str]]] = defaultdict(lambda: defaultdict(set))
    for rule in late_rules(backends):
        product = rule.product
        if by == "product" and product is None:
            continue
        for backend in (b for b in backends if rule.holds_some_of(b)):
            band = product.name if by == "product" and product else group_of(backend, by)
            for due in dues(rule, zone_for(rule, backend), start, end):
                marked[band][due].add(rule.name)
    return marked


def zone_for(rule: AlertRule, backend: Backend) -> ZoneInfo:
    return zones.zone(rule.deadline_zone) or calendars.zone_of(rule.calendar, backend.timezone)


def dues(rule: AlertRule, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The rule's deadline on each working day of its calendar in the window."""
    found = []
    day: date = start.astimezone(zone).date()
    while rule.deadline and (due := datetime.combine(day, rule.deadline, zone)) < end:
        if due >= start and calendars.is_working_day(day, rule.calendar):
            found.append(due)
        day += timedelta(days=1)
    return found

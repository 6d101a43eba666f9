"""The run list's filters and keyset paging, parsed from the URL: shared by the list, its live
refresh and (later) exports and the API. Any query string is safe: bad values are ignored."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from dashboard import search
from instances import failures
from instances.models import Instance, InstanceQuerySet, Kind, Status

WINDOWS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
PAGE_SIZE = 50
# sort key → (field, descending); every sort pages by (field, id), so pages never overlap
SORTS = {
    "-run_at": ("run_at", True),
    "run_at": ("run_at", False),
    "name": ("name", False),
    "-name": ("name", True),
    "status": ("status", False),
    "-status": ("status", True),
}


@dataclass
class RunFilter:
    backends: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    exclude_statuses: list[str] = field(default_factory=list)
    window: str = "24h"
    # window=custom: [since, until) from dates (start/end) or exact times (since/until)
    span: tuple[datetime, datetime | None] | None = None
    team: int | None = None
    owner: str = ""
    definition: str = ""
    q: str = ""
    signature: str | None = None  # failed runs whose error has this signature ("": none)
    steps: bool = False  # steps listed too, not only top-level runs
    roots_only: bool = False  # top-level runs only, whatever is searched (inbox, overview)
    sort: str = "-run_at"
    after: tuple[str, int] | None = None  # keyset cursor: (sort value, id) of the last row

    @classmethod
    def from_query(cls, query: QueryDict) -> RunFilter:
        statuses = set(Status.values)
        return cls(
            backends=[int(b) for b in query.getlist("backend") if is_id(b)],
            kinds=[k for k in query.getlist("kind") if k in Kind.values],
            statuses=[s for s in query.getlist("status") if s in statuses],
            exclude_statuses=[s for s in query.getlist("not") if s in statuses],
            window=query.get("window", "")
            if query.get("window") in [*WINDOWS, "all", "custom"]
            else "24h",
            span=custom_window(query.get("start", ""), query.get("end", ""))
            or exact_window(query.get("since", ""), query.get("until", "")),
            team=int(query.get("team", "")) if is_id(query.get("team", "")) else None,
            owner=text(query, "owner"),
            definition=text(query, "definition"),
            q=text(query, "q").strip(),
            signature=text(query, "signature") if "signature" in query else None,
            steps=query.get("steps") == "1",
            roots_only=query.get("roots") == "1",
            sort=query.get("sort", "") if query.get("sort") in SORTS else "-run_at",
            after=decode_cursor(query.get("after", "")),
        )

    def apply(
        self, runs: InstanceQuerySet, now: datetime | None = None, search: bool = True
    ) -> InstanceQuerySet:
        """The runs these filters keep. `search=False`: what `page` is given, which picks
        the listed kinds of run and searches them itself."""
        if self.window in WINDOWS:
            runs = runs.in_window((now or timezone.now()) - WINDOWS[self.window])
        elif self.window == "custom" and self.span:
            runs = runs.in_window(*self.span)
        if self.backends:
            runs = runs.filter(backend__in=self.backends)
        if self.team:
            runs = runs.filter(backend__team=self.team)
        if self.kinds:
            runs = runs.filter(kind__in=self.kinds)
        if self.statuses:
            runs = runs.filter(status__in=self.statuses)
        if self.exclude_statuses:
            runs = runs.exclude(status__in=self.exclude_statuses)
        if self.owner:
            runs = runs.filter(owner=self.owner)
        if self.definition:
            runs = runs.filter(definition_id=self.definition)
        if search:
            runs = runs.filter(self.listed())
            if self.q:
                runs = runs.filter(self.matching())
        if self.signature is not None:  # last: it reads the runs the other filters leave
            runs = failures.with_signature(runs, self.signature)
        return runs

    def parts(self) -> list[tuple[Q, bool | None]]:
        """The kinds of run listed, apart, each with whether it is of steps: top-level runs;
        steps too when asked for (unless only top-level runs are), else a step whose vendor
        id is searched (None: by that alone). A search reads each part on its own indexes."""
        top, steps = Q(parent__isnull=True), Q(parent__isnull=False)
        if self.roots_only:
            return [(top, False)]
        if self.steps:
            return [(top, False), (steps, True)]
        return [(top, False), (steps & Q(external_id=self.q), None)] if self.q else [(top, False)]

    def listed(self) -> Q:
        """The runs listed, all parts together."""
        if self.steps and not self.roots_only:
            return Q()
        return reduce(or_, (part for part, _ in self.parts()))

    def matching(self) -> Q:
        """What the search box finds: a vendor id, or part of a name."""
        return search.matching(self.q)

    def page(self, runs: InstanceQuerySet) -> tuple[list[Instance], str | None]:
        """One page in the chosen order after the cursor, and the next cursor, of `runs` as
        `apply(search=False)` leaves them."""
        field, descending = SORTS[self.sort]
        sign = "-" if descending else ""
        runs = runs.order_by(f"{sign}{field}", f"{sign}id")
        if bound := self.cursor(field):
            value, pk = bound
            beyond, reach = ("lt", "lte") if descending else ("gt", "gte")
            # the inclusive bound keeps the scan on the index; the OR breaks ties on id
            runs = runs.filter(**{f"{field}__{reach}": value}).filter(
                Q(**{f"{field}__{beyond}": value}) | Q(**{f"id__{beyond}": pk})
            )
        if self.q:
            parts = [(runs.filter(part), of_steps) for part, of_steps in self.parts()]
            rows = search.first(parts, self.q, PAGE_SIZE + 1)
        else:
            rows = list(runs.filter(self.listed()).as_listed()[: PAGE_SIZE + 1])
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        return rows, encode_cursor(rows[-1], field) if more else None

    def cursor(self, field: str) -> tuple[datetime | str, int] | None:
        """(sort value, id) of the last row seen; None when absent or unreadable (ignored)."""
        if not self.after:
            return None
        raw, pk = self.after
        value = moment(raw) if field == "run_at" else raw
        return None if value is None else (value, pk)


def encode_cursor(run: Instance, field: str = "run_at") -> str:
    value = getattr(run, field)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return base64.urlsafe_b64encode(f"{text}\x1f{run.pk}".encode()).decode()


def decode_cursor(text: str) -> tuple[str, int] | None:
    try:
        value, pk = base64.urlsafe_b64decode(text.encode()).decode().rsplit("\x1f", 1)
        return (value.replace("\x00", ""), int(pk)) if is_id(pk) else None
    except (ValueError, UnicodeDecodeError):
        return None


def custom_window(start: str, end: str) -> tuple[datetime, datetime] | None:
    """[start day 00:00, end day 24:00) in the reader's zone (the active one), at most a year;
    None when unreadable. No end means up to today, as when a reader has typed only the first
    date."""
    try:
        first = parse_date(start or "")
        last = parse_date(end) if end else timezone.localdate()
    except ValueError:  # well formed but not a date, like 2026-13-45
        return None
    if not first or not last or last < first or (last - first).days > 366:
        return None
    zone = timezone.get_current_timezone()
    try:
        begin = datetime(first.year, first.month, first.day, tzinfo=zone)
        after = datetime(last.year, last.month, last.day, tzinfo=zone) + timedelta(days=1)
    except OverflowError:  # the last day of year 9999
        return None
    window = bounded(begin, after)
    return (window[0], window[1] or after) if window else None


def exact_window(since: str, until: str) -> tuple[datetime, datetime | None] | None:
    """[since, until) from ISO 8601 times (UTC when no offset); until may be open."""
    start, end = moment(since), moment(until)
    if not start:
        return None
    return bounded(start, end)


def bounded(start: datetime, end: datetime | None) -> tuple[datetime, datetime | None] | None:
    """A window within the history Runboard keeps (the hourly rollups' RUNBOARD_ROLLUP_DAYS)
    and a day ahead: whatever a URL asks, a chart has a bounded number of buckets and no date
    arithmetic leaves the calendar. A window wholly outside it is empty; None when it ends
    before it starts."""
    if end is not None and end <= start:
        return None
    now = timezone.now()
    earliest, latest = now - timedelta(days=settings.RUNBOARD_ROLLUP_DAYS), now + timedelta(days=1)
    return min(max(start, earliest), latest), end and min(max(end, earliest), latest)


def moment(text: str) -> datetime | None:
    """An ISO 8601 time in UTC (UTC when no offset); None when unreadable, like 25:61 or an
    offset of +99:00, or beyond what a UTC time can hold."""
    try:
        value = parse_datetime(text.strip())
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def is_id(text: str) -> bool:
    """A database id: digits that fit a bigint (anything else in a URL is ignored)."""
    return text.isascii() and text.isdigit() and int(text) < 2**63


def text(query: QueryDict, name: str) -> str:
    """A free-text parameter as the database can take it: no NUL bytes, bounded length."""
    return query.get(name, "").replace("\x00", "")[:200]

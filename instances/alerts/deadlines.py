"""Deadlines: a definition that must succeed by a time of day, in a zone, on its calendar's
working days. The *late* rule fires once the deadline has passed without a success that
day, and resolves when the success comes, saying how late it was. The *late soon* rule fires
before it, while the day's run is predicted (instances/forecast.py) to finish after it.
A data product's late rule holds its definitions, on any backends, to the deadline together:
one alert while any of them has not succeeded."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from instances import calendars, forecast, zones
from instances.models import Backend, Instance, Status
from instances.people.models import ClosedDay
from instances.status import UNFINISHED

from .lifecycle import Kind, fire, matches, resolve, rules_for, watched_definitions
from .models import Alert, AlertRule, DeadlineDay


def check_late(backend: Backend, now: datetime) -> None:
    alone = [rule for rule in rules_for(backend, Kind.LATE) if rule.product_id is None]
    for rule in [*alone, *rules_for(backend, Kind.LATE_SOON)]:
        if (today := working_today(rule, backend, now)) is None:
            continue
        judged, zone = judge if rule.kind == Kind.LATE else foresee, zone_of(rule, backend)
        for definition in watched_definitions(rule, backend, now):
            judged(rule, backend, definition, today, zone, now)


def zone_of(rule: AlertRule, backend: Backend) -> ZoneInfo:
    return zones.zone(rule.deadline_zone) or calendars.zone_of(rule.calendar, backend.timezone)


def working_today(rule: AlertRule, backend: Backend, now: datetime) -> date | None:
    """The rule's day now, if it has a deadline that day (a working day of its calendar)."""
    if rule.deadline is None:
        return None
    today = now.astimezone(zone_of(rule, backend)).date()
    closed = ClosedDay.objects.filter(team_id=rule.team_id).values_list("day", flat=True)
    return today if calendars.is_working_day(today, rule.calendar, frozenset(closed)) else None


def product_rules() -> list[AlertRule]:
    rules = AlertRule.objects.filter(kind=Kind.LATE, enabled=True, product__isnull=False)
    return list(rules.select_related("product"))


def check_product(rule: AlertRule, fresh: set[int], now: datetime) -> None:
    """A data product late while any of its definitions has not succeeded by the deadline;
    resolved when the last one has. It waits while one of its backends is stale (what its
    runs did is unknown) or not watched."""
    if (product := rule.product) is None:
        return
    parts = list(product.parts.select_related("backend").order_by("pk"))
    if not parts or any(part.backend_id not in fresh for part in parts):
        return
    first = parts[0].backend  # the product's zone: its first definition's backend's
    if (day := working_today(rule, first, now)) is None:
        return
    zone = zone_of(rule, first)
    due = datetime.combine(day, rule.deadline or time(), zone)
    waiting = []
    last_success = None
    for part in parts:
        runs, succeeded = the_day(rule, part.backend, part.definition_id, day, zone)[1:]
        if succeeded is not None or now >= due:
            met = succeeded is not None and succeeded <= due
            decided(rule, part.backend, part.definition_id, day, succeeded, met=met)
        if succeeded is None:
            waiting.append((part, runs.order_by("-run_at").first()))
        else:
            last_success = max(last_success or succeeded, succeeded)
    key = f"late:{day.isoformat()}"
    if not waiting:
        if last_success and last_success > due:
            late = int((last_success - due).total_seconds() // 60)
            why = _("its last definition succeeded {minutes} min after its deadline")
            resolve(Alert.objects.filter(rule=rule, key=key), now, why.format(minutes=late))
        return
    if now < due:
        return
    part, run = waiting[0]
    deadline = f"{rule.deadline:%H:%M} {zone.key}"
    names = ", ".join(f"{p.definition_id} ({p.backend.name})" for p, _run in waiting)
    fire(
        rule,
        part.backend,
        key,
        part.definition_id,
        {
            "title": f"{product.name} missed its {deadline} deadline: "
            f"{len(waiting)} of {len(parts)} definitions have not succeeded",
            "run": run,
            "error_line": f"no success by {deadline} on {day.isoformat()}: {names}",
        },
        now,
    )


def judge(
    rule: AlertRule, backend: Backend, definition: str, day: date, zone: ZoneInfo, now: datetime
) -> None:
    """Late, on time, or not due yet, for `definition` on `day`."""
    due, runs, succeeded = the_day(rule, backend, definition, day, zone)
    key = f"late:{definition}:{day.isoformat()}"
    last = runs.only("name", "definition_name", "owner", "run_at").order_by("-run_at").first()
    if last is None or not matches(rule, last):
        return  # not one the rule is about: nothing said, its days not counted
    if succeeded is not None or now >= due:
        decided(
            rule,
            backend,
            definition,
            day,
            succeeded,
            met=succeeded is not None and succeeded <= due,
        )
    if succeeded is not None and succeeded <= due:
        return
    if succeeded is not None:
        late = succeeded - due
        why = _("it succeeded {minutes} min after its deadline").format(
            minutes=int(late.total_seconds() // 60)
        )
        resolve(Alert.objects.filter(rule=rule, key=key), now, why)
        return
    if now < due:
        return
    deadline = f"{rule.deadline:%H:%M} {zone.key}"
    fire(
        rule,
        backend,
        key,
        definition,
        {
            "title": f"{last.definition_name or last.name} missed its {deadline} deadline on "
            f"{backend.name}",
            "run": last,
            "error_line": f"no success by {deadline} on {day.isoformat()}",
        },
        now,
    )


def the_day(
    rule: AlertRule, backend: Backend, definition: str, day: date, zone: ZoneInfo
) -> tuple[datetime, QuerySet[Instance], datetime | None]:
    """The day's deadline, the definition's top-level runs, and its first success that day."""
    due = datetime.combine(day, rule.deadline or time(), zone)
    runs = Instance.objects.filter(backend=backend, parent__isnull=True, definition_id=definition)
    succeeded: datetime | None = (
        runs.filter(status=Status.SUCCEEDED, finished_at__gte=datetime.combine(day, time(), zone))
        .order_by("finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return due, runs, succeeded


def decided(
    rule: AlertRule,
    backend: Backend,
    definition: str,
    day: date,
    succeeded: datetime | None,
    met: bool,
) -> None:
    """Keep how the day went, written only when it changes (checks run every minute)."""
    kept = DeadlineDay.objects.filter(rule=rule, backend=backend, definition_id=definition, day=day)
    if kept.filter(met=met, succeeded_at=succeeded).exists():
        return
    DeadlineDay.objects.update_or_create(
        rule=rule,
        backend=backend,
        definition_id=definition,
        day=day,
        defaults={"met": met, "succeeded_at": succeeded},
    )


def foresee(
    rule: AlertRule, backend: Backend, definition: str, day: date, zone: ZoneInfo, now: datetime
) -> None:
    """Will the day's running run of `definition` finish after its deadline? Said before the
    deadline, with the predicted finish; resolved when it succeeds or is predicted in time."""
    due, runs, succeeded = the_day(rule, backend, definition, day, zone)
    key = f"late_soon:{definition}:{day.isoformat()}"
    firing = Alert.objects.filter(rule=rule, key=key)
    if succeeded is not None:
        resolve(firing, now, f"it succeeded at {succeeded.astimezone(zone):%H:%M} {zone.key}")
        return
    start = datetime.combine(day, time(), zone)
    running = runs.filter(status__in=UNFINISHED, run_at__gte=start).order_by("-run_at").first()
    if running is None or not matches(rule, running):
        return  # nothing to foresee: the missing and late rules tell the rest
    if (predicted := forecast.finish(running, now)) is None:
        return
    finish = f"{predicted.astimezone(zone):%H:%M} {zone.key}"
    if predicted <= due:
        resolve(firing, now, f"now predicted to finish at {finish}, in time")
    elif now < due:
        deadline = f"{rule.deadline:%H:%M} {zone.key}"
        fire(
            rule,
            backend,
            key,
            definition,
            {
                "title": f"{running.definition_name or running.name} will miss its {deadline} "
                f"deadline on {backend.name}",
                "run": running,
                "error_line": f"predicted to finish at {finish}, after its {deadline} deadline",
            },
            now,
        )

"""When alerts fire and resolve. Failures and recoveries are read from the status transitions
sync writes, in its transaction (never from a scan of the runs); stuck runs, missed schedules
and stale backends, which no transition announces, from a periodic check over the few rows
concerned (running runs, ruled definitions, ruled backends)."""

from __future__ import annotations

import fnmatch
import logging
import statistics
from datetime import datetime, timedelta
from itertools import pairwise

from django.db import transaction
from django.db.models import Q

from instances import errors, failures, rollups
from instances.models import Backend, Instance, Rollup, Status
from instances.status import TERMINAL

from . import delivery
from .models import Alert, AlertEvent, AlertRule

Kind = AlertRule.Kind
HISTORY = 12  # runs of a definition read for a streak or a schedule
FIRST_SIGHTING_NEWS = timedelta(minutes=10)
SCHEDULE_HISTORY = timedelta(days=35)  # a monthly definition has run within it
MISSING_DEFINITIONS = 200  # definitions one unscoped "missing" rule watches per backend
log = logging.getLogger(__name__)


def covering_rules(backend: Backend):
    """Enabled rules that cover the backend: its team's, or naming it."""
    covering = Q(backend=backend) | Q(backend__isnull=True, team_id=backend.team_id)
    return AlertRule.objects.filter(covering, enabled=True)


def rules_for(backend: Backend, kind: str) -> list[AlertRule]:
    return list(covering_rules(backend).filter(kind=kind))


def matches(rule: AlertRule, run: Instance) -> bool:
    return (
        (not rule.definition_id or rule.definition_id == run.definition_id)
        and (not rule.owner or rule.owner == run.owner)
        and (
            not rule.name_pattern
            or fnmatch.fnmatchcase(run.name.lower(), rule.name_pattern.lower())
        )
    )


# ---- from transitions ---------------------------------------------------------------------


def on_transitions(backend: Backend, changes: list[tuple[int, str, str]], now: datetime):
    """Top-level runs' transitions (pk, from, to) just written by sync, in its transaction."""
    ended = {pk: to for pk, _, to in changes if to in (Status.FAILED, Status.SUCCEEDED)}
    started = {pk for pk, before, _ in changes if before == ""}
    if not (ended or started) or not (covering := list(covering_rules(backend))):
        return  # nothing ended or began, or nobody listens here: no alert to open or close
    runs = {
        run.pk: run
        for run in Instance.objects.filter(pk__in=set(ended) | started).only(
            "name",
            "definition_id",
            "definition_name",
            "owner",
            "error_message",
            "run_at",
            "finished_at",
            "backend_id",
        )
    }
    # a run first seen already failed is news only if it failed lately: a new backend's first
    # poll, or one back after an outage, must not page anyone for last week's failures
    lately = now - max(FIRST_SIGHTING_NEWS, timedelta(seconds=3 * backend.poll_interval))
    failed = [
        runs[pk]
        for pk, to in ended.items()
        if to == Status.FAILED
        and pk in runs
        and (pk not in started or (runs[pk].finished_at or runs[pk].run_at) >= lately)
    ]
    if failed and (rules := [rule for rule in covering if rule.kind == Kind.FAILED]):
        culprits = failures.culprit_steps(failed)
        for run in failed:
            for rule in rules:
                if matches(rule, run):
                    failed_run(rule, backend, run, culprits.get(run.pk), now)
    succeeded = [runs[pk] for pk, to in ended.items() if to == Status.SUCCEEDED and pk in runs]
    resolve_by_later_runs(backend, Kind.FAILED, succeeded, now, "succeeded")
    arrived = [runs[pk] for pk in started if pk in runs]  # a definition that was missing ran
    resolve_by_later_runs(backend, Kind.MISSING, arrived, now, "started")
    finished = [pk for pk, _, to in changes if to in TERMINAL]
    resolve(Alert.objects.filter(rule__kind=Kind.STUCK, run_id__in=finished), now, "the run ended")


def resolve_by_later_runs(
    backend: Backend, kind: str, runs: list[Instance], now: datetime, verb: str
) -> None:
    """Resolve the backend's firing alerts of this kind whose definition has one of these
    runs at or after the alert's own run (an older success resolves nothing)."""
    newest: dict[str, Instance] = {}
    for run in runs:
        if run.definition_id not in newest or run.run_at > newest[run.definition_id].run_at:
            newest[run.definition_id] = run
    if not newest:
        return
    firing = Alert.objects.filter(
        rule__kind=kind, backend=backend, definition_id__in=newest, state=Alert.State.FIRING
    )
    alert_runs = dict(
        Instance.objects.filter(pk__in=firing.values("run")).values_list("pk", "run_at")
    )
    for alert in firing.select_for_update():
        later = newest[alert.definition_id]
        if alert.run_id is None or later.run_at >= alert_runs.get(alert.run_id, later.run_at):
            close(alert, now, f"{later.name} {verb}")


def streak_of(run: Instance) -> int:
    """Failures in a row of the run's definition, ending with this run."""
    recent = (
        Instance.objects.filter(
            backend_id=run.backend_id,
            parent__isnull=True,
            definition_id=run.definition_id,
            run_at__lte=run.run_at,
        )
        .order_by("-run_at")
        .values_list("status", flat=True)[:HISTORY]
    )
    streak = 0
    for status in recent:
        if status != Status.FAILED:
            break
        streak += 1
    return max(streak, 1)


def failed_run(rule, backend, run: Instance, culprit: Instance | None, now: datetime) -> None:
    streak = streak_of(run)
    if streak < rule.after_failures:
        return
    error = failures.error_of(run, culprit)
    signature = errors.signature(error)
    fields = {
        "title": f"{run.definition_name or run.name} failed on {backend.name}",
        "run": run,
        "culprit": culprit.name if culprit else "",
        "signature": signature,
        "error_line": errors.telling_line(error),
        "streak": streak,
    }
    fire(rule, backend, f"{run.definition_id}|{signature}", run.definition_id, fields, now)


# ---- the periodic check -------------------------------------------------------------------


def check(now: datetime) -> None:
    """Stale backends, stuck runs and missed schedules, a backend and a check at a time, each
    in its own savepoint: one that fails is logged and every other is made all the same."""
    for backend in Backend.objects.filter(enabled=True):
        for each in (check_stale, check_stuck, check_missing):
            try:
                with transaction.atomic():
                    each(backend, now)
            except Exception:
                log.exception("alert check %s of backend %s failed", each.__name__, backend.pk)


def check_stale(backend: Backend, now: datetime) -> None:
    for rule in rules_for(backend, Kind.STALE):
        key = f"backend:{backend.pk}"
        if backend.is_stale:
            why = backend.last_error or "no successful poll for three intervals"
            fire(
                rule,
                backend,
                key,
                "",
                {"title": f"{backend.name} is stale", "error_line": why[:500]},
                now,
            )
        else:
            resolve(Alert.objects.filter(rule=rule, key=key), now, f"{backend.name} answers")


def check_stuck(backend: Backend, now: datetime) -> None:
    rules = rules_for(backend, Kind.STUCK)
    if not rules:
        return
    running = list(
        Instance.objects.filter(backend=backend, parent__isnull=True, status=Status.RUNNING).only(
            "name",
            "definition_id",
            "definition_name",
            "owner",
            "run_at",
            "started_at",
            "status_changed_at",
            "backend_id",
        )
    )
    usual = rollups.usual_durations(running, now)
    resolve(
        Alert.objects.filter(rule__in=rules, backend=backend).exclude(
            run__in=[run.pk for run in running]
        ),
        now,
        "the run ended",
    )
    for rule in rules:
        for run in running:
            if not matches(rule, run):
                continue
            running_for = now - (run.started_at or run.run_at)
            typical = usual.get((run.backend_id, run.definition_id))
            silent = rule.silent_minutes and (
                now - run.status_changed_at > timedelta(minutes=rule.silent_minutes)
            )
            overdue = typical is not None and running_for > typical * rule.stuck_factor
            if overdue or silent:
                quiet = now - run.status_changed_at
                why = (
                    f"running for {format_span(running_for)}, usually {format_span(typical)}"
                    if overdue
                    else f"no change for {format_span(quiet)}"
                )
                fire(
                    rule,
                    backend,
                    f"run:{run.pk}",
                    run.definition_id,
                    {
                        "title": f"{run.name} is stuck on {backend.name}",
                        "run": run,
                        "error_line": why,
                    },
                    now,
                )


def check_missing(backend: Backend, now: datetime) -> None:
    """A definition that runs on a schedule (learned from its last runs' start times) that
    did not start within the grace period after its next expected time."""
    for rule in rules_for(backend, Kind.MISSING):
        # the definitions that ran lately, from the hourly rollups (not a scan of the runs)
        definitions = (
            [rule.definition_id]
            if rule.definition_id
            else list(
                Rollup.objects.filter(
                    backend=backend, top_level=True, hour__gte=now - SCHEDULE_HISTORY
                )
                .values_list("definition_id", flat=True)
                .distinct()[:MISSING_DEFINITIONS]
            )
        )
        for definition in definitions:
            recent = list(
                Instance.objects.filter(
                    backend=backend, parent__isnull=True, definition_id=definition
                )
                .only("name", "definition_id", "definition_name", "owner", "run_at")
                .order_by("-run_at")[:HISTORY]
            )
            expected = next_expected([run.run_at for run in recent])
            if expected is None:
                continue
            late, last = now - expected, recent[0]
            key = f"missing:{definition}"
            if late <= timedelta(minutes=rule.grace_minutes):
                resolve(Alert.objects.filter(rule=rule, key=key), now, "it started")
            elif matches(rule, last):
                fire(
                    rule,
                    backend,
                    key,
                    definition,
                    {
                        "title": f"{last.definition_name or last.name} did not start on "
                        f"{backend.name}",
                        "run": last,
                        "error_line": f"expected at {expected:%Y-%m-%d %H:%M} UTC, "
                        f"{format_span(late)} ago",
                    },
                    now,
                )


def next_expected(starts: list[datetime]) -> datetime | None:
    """When a definition's next run should start, from its last starts (newest first): the
    last plus its usual interval (the median of the gaps), if they keep a schedule (at least
    3 alike gaps)."""
    gaps = [later - earlier for later, earlier in pairwise(starts)]
    if len(gaps) < 3:
        return None
    interval = timedelta(seconds=statistics.median(g.total_seconds() for g in gaps))
    regular = [g for g in gaps if abs(g - interval) <= interval * 0.1]
    if not interval or len(regular) < 3:
        return None
    return starts[0] + interval


def format_span(span: timedelta | None) -> str:
    seconds = int(span.total_seconds()) if span else 0
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"


# ---- lifecycle ----------------------------------------------------------------------------


def fire(
    rule: AlertRule,
    backend: Backend | None,
    key: str,
    definition_id: str,
    fields: dict,
    now: datetime,
) -> Alert:
    """Open an alert for (rule, key) and tell its channels, or fold a repeat into the one
    already firing (no second message). Vendor text is fitted to its columns first."""
    fields, key = fitted(fields), key[: Alert._meta.get_field("key").max_length]
    alert = (
        Alert.objects.select_for_update()
        .filter(rule=rule, key=key, state=Alert.State.FIRING)
        .first()
    )
    if alert is not None:
        run, latest = fields.get("run"), alert.run
        repeated = run is not None and run != latest
        older = run is not None and latest is not None and run.run_at < latest.run_at
        if not (repeated and older):  # an older run is counted, the newest one stays shown
            for name, value in fields.items():
                setattr(alert, name, value)
        if repeated:
            alert.occurrences += 1
            AlertEvent.objects.create(
                alert=alert, at=now, what=AlertEvent.What.REPEATED, note=f"streak {alert.streak}"
            )
        alert.updated_at = now
        alert.save()
        return alert
    # a silence outlives the alert it was set on: the same trouble back within it stays quiet
    silenced = (
        Alert.objects.filter(rule=rule, key=key, silenced_until__gt=now)
        .values("silenced_until", "silenced_by_id", "silence_reason")
        .first()
    )
    silence: dict = dict(silenced) if silenced else {}
    alert = Alert.objects.create(
        rule=rule,
        key=key,
        backend=backend,
        definition_id=definition_id,
        opened_at=now,
        updated_at=now,
        **fields,
        **silence,
    )
    AlertEvent.objects.create(
        alert=alert, at=now, what=AlertEvent.What.FIRED, note=fields.get("error_line", "")[:500]
    )
    if not alert.is_silenced(now):
        delivery.queue(alert, AlertEvent.What.FIRED, now)
    return alert


def fitted(fields: dict) -> dict:
    """Vendor text as an alert's columns take it: one line each (titles end up as email
    subjects and chat headers) and cut to the column's length, so no name can fail a write."""
    fitted = dict(fields)
    for name, value in fields.items():
        limit = getattr(Alert._meta.get_field(name), "max_length", None)
        if limit and isinstance(value, str):
            fitted[name] = shorten(" ".join(value.split()), limit)
    return fitted


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def resolve(alerts, now: datetime, why: str) -> None:
    for alert in alerts.filter(state=Alert.State.FIRING).select_for_update():
        close(alert, now, why)


def close(alert: Alert, now: datetime, why: str) -> None:
    """Resolve one firing alert, and say so unless it is silenced."""
    alert.state, alert.resolved_at, alert.updated_at = Alert.State.RESOLVED, now, now
    alert.save(update_fields=["state", "resolved_at", "updated_at"])
    AlertEvent.objects.create(alert=alert, at=now, what=AlertEvent.What.RESOLVED, note=why)
    if not alert.is_silenced(now):
        delivery.queue(alert, AlertEvent.What.RESOLVED, now)

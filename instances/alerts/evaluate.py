"""Failures and recoveries, read from the status transitions sync writes (never from a scan
of the runs): an observer of each stored page (instances/observers.py), in a savepoint of the
page's transaction. A page holds a thousand transitions and a backend a few firing alerts, so
the alerts are asked first and only the runs that can open or close one are read."""

from __future__ import annotations

from datetime import datetime, timedelta

from instances import errors, failures
from instances.models import Backend, Instance, Status
from instances.status import TERMINAL

from .lifecycle import HISTORY, Kind, close, covering_rules, fire, matches, resolve
from .models import Alert, AlertRule

FIRST_SIGHTING_NEWS = timedelta(minutes=10)


def on_transitions(backend: Backend, changes: list[tuple[int, str, str]], now: datetime):
    """Top-level runs' transitions (pk, from, to) just written by sync, in its transaction."""
    ended = {pk: to for pk, _, to in changes if to in (Status.FAILED, Status.SUCCEEDED)}
    started = {pk for pk, before, _ in changes if before == ""}
    if not (ended or started) or not (covering := list(covering_rules(backend))):
        return  # nothing ended or began, or nobody listens here: no alert to open or close
    failed = [pk for pk, to in ended.items() if to == Status.FAILED]
    if failed and (rules := [rule for rule in covering if rule.kind == Kind.FAILED]):
        failed_runs(rules, backend, failed, started, now)
    succeeded = {pk for pk, to in ended.items() if to == Status.SUCCEEDED}
    resolve_by_later_runs(backend, Kind.FAILED, succeeded, now, "succeeded")
    # a definition that was missing ran
    resolve_by_later_runs(backend, Kind.MISSING, started, now, "started")
    finished = {pk for pk, _, to in changes if to in TERMINAL}
    stuck = Alert.objects.filter(rule__kind=Kind.STUCK, backend=backend, state=Alert.State.FIRING)
    if ended_runs := finished.intersection(stuck.values_list("run_id", flat=True)):
        resolve(stuck.filter(run_id__in=ended_runs), now, "the run ended")


def failed_runs(
    rules: list[AlertRule], backend: Backend, failed: list[int], started: set[int], now: datetime
) -> None:
    """Open (or repeat) the alerts of these failed runs, unless they are old news."""
    runs = Instance.objects.filter(pk__any=failed).only(
        "name",
        "definition_id",
        "definition_name",
        "owner",
        "error_message",
        "run_at",
        "finished_at",
        "backend_id",
    )
    # a run first seen already failed is news only if it failed lately: a new backend's first
    # poll, or one back after an outage, must not page anyone for last week's failures
    lately = now - max(FIRST_SIGHTING_NEWS, timedelta(seconds=3 * backend.poll_interval))
    news = [
        run for run in runs if run.pk not in started or (run.finished_at or run.run_at) >= lately
    ]
    culprits = failures.culprit_steps(news) if news else {}
    for run in news:
        for rule in rules:
            if matches(rule, run):
                failed_run(rule, backend, run, culprits.get(run.pk), now)


def resolve_by_later_runs(
    backend: Backend, kind: str, run_ids: set[int], now: datetime, verb: str
) -> None:
    """Resolve the backend's firing alerts of this kind whose definition has one of these
    runs at or after the alert's own run (an older success resolves nothing)."""
    firing = Alert.objects.filter(rule__kind=kind, backend=backend, state=Alert.State.FIRING)
    watched = set(firing.values_list("definition_id", flat=True)) if run_ids else set()
    if not watched:
        return
    newest: dict[str, tuple[str, datetime]] = {}
    runs = Instance.objects.filter(pk__any=list(run_ids), definition_id__in=watched)
    for name, definition_id, run_at in runs.values_list("name", "definition_id", "run_at"):
        if definition_id not in newest or run_at > newest[definition_id][1]:
            newest[definition_id] = (name, run_at)
    firing = firing.filter(definition_id__in=newest)
    alert_runs = dict(
        Instance.objects.filter(pk__in=firing.values("run")).values_list("pk", "run_at")
    )
    for alert in firing.select_for_update():
        name, run_at = newest[alert.definition_id]
        if alert.run_id is None or run_at >= alert_runs.get(alert.run_id, run_at):
            close(alert, now, f"{name} {verb}")


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

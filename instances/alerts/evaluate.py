"""Failures and recoveries, read from the status transitions sync writes (never from a scan
of the runs): an observer of each stored page (instances/observers.py), in a savepoint of the
page's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from instances import errors, failures
from instances.models import Backend, Instance, Status
from instances.status import TERMINAL

from .lifecycle import HISTORY, Kind, close, covering_rules, fire, matches, resolve
from .models import Alert

FIRST_SIGHTING_NEWS = timedelta(minutes=10)


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

"""An alert's life, for every kind of rule: which rules cover a backend and match a run,
opening an alert (or folding a repeat into the one firing), resolving it, and queueing what
its channels are told."""

from __future__ import annotations

import fnmatch
from datetime import datetime, timedelta

from django.db.models import Q

from instances.models import Backend, Instance, ProductPart, Rollup

from . import delivery
from .models import Alert, AlertEvent, AlertRule
from .silences import silence_over

Kind = AlertRule.Kind
HISTORY = 12  # runs of a definition read for a streak or a schedule
SCHEDULE_HISTORY = timedelta(days=35)  # a monthly definition has run within it
WATCHED_DEFINITIONS = 200  # definitions one unscoped missing or late rule watches a backend


def covering_rules(backend: Backend):
    """Enabled rules that cover the backend: its team's, or naming it; a data product's where
    one of its definitions is the backend's."""
    covering = Q(backend=backend) | Q(backend__isnull=True, team_id=backend.team_id)
    parts = Q(product__isnull=True) | Q(product__in=products_on(backend))
    return AlertRule.objects.filter(covering & parts, enabled=True)


def products_on(backend: Backend):
    return ProductPart.objects.filter(backend=backend).values("product")


def rules_for(backend: Backend, kind: str) -> list[AlertRule]:
    return list(covering_rules(backend).filter(kind=kind))


def watched_definitions(rule: AlertRule, backend: Backend, now: datetime) -> list[str]:
    """The rule's definition, or the backend's that ran lately, from the hourly rollups (not
    a scan of the runs)."""
    if rule.definition_id:
        return [rule.definition_id]
    if rule.product_id:
        return sorted(definition for pk, definition in rule.parts if pk == backend.pk)
    return list(
        Rollup.objects.filter(backend=backend, top_level=True, hour__gte=now - SCHEDULE_HISTORY)
        .values_list("definition_id", flat=True)
        .distinct()[:WATCHED_DEFINITIONS]
    )


def matches(rule: AlertRule, run: Instance) -> bool:
    return (
        rule.covers(run.backend_id, run.definition_id)
        and (not rule.owner or rule.owner == run.owner)
        and (
            not rule.name_pattern
            or fnmatch.fnmatchcase(run.name.lower(), rule.name_pattern.lower())
        )
    )


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
        Alert.objects.select_related("run")  # its run's time decides which run it shows
        .select_for_update(of=("self",))
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
    alert = Alert.objects.create(
        rule=rule,
        key=key,
        backend=backend,
        definition_id=definition_id,
        opened_at=now,
        updated_at=now,
        **fields,
        **silence_over(rule, backend, key, definition_id, now),
    )
    AlertEvent.objects.create(
        alert=alert, at=now, what=AlertEvent.What.FIRED, note=fields.get("error_line", "")[:500]
    )
    if not alert.is_silenced(now):
        tell(alert, now)
    return alert


def tell(alert: Alert, now: datetime) -> None:
    """Queue the news that it fires to its channels, and remember that they were told."""
    alert.told_at = now
    alert.save(update_fields=["told_at"])
    delivery.queue(alert, AlertEvent.What.FIRED, now)


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
    """Resolve one firing alert, and say so to the channels that were told it fired, unless
    it is silenced."""
    alert.state, alert.resolved_at, alert.updated_at = Alert.State.RESOLVED, now, now
    alert.save(update_fields=["state", "resolved_at", "updated_at"])
    AlertEvent.objects.create(alert=alert, at=now, what=AlertEvent.What.RESOLVED, note=why)
    if alert.told_at is not None and not alert.is_silenced(now):
        delivery.queue(alert, AlertEvent.What.RESOLVED, now)

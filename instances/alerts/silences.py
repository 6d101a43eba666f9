"""Silences, as on-call means them: this error of a definition, the definition whatever its
error, or everything from a backend; of one team's rules. A silence is kept on the alert it
was set on (and copied to the alerts it covers), and outlives it: an alert opened while one
covers it opens silenced."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from instances.models import Backend

from .models import Alert, AlertEvent

Scope = Alert.SilenceScope


def scopes_for(alert: Alert) -> list[tuple[str, str]]:
    """The scopes that mean something for this alert (a stale backend has no definition)."""
    offered: list[tuple[str, str]] = [
        (Scope.SIGNATURE, str(Scope.SIGNATURE.label if alert.signature else _("this alert")))
    ]
    if alert.backend_id and alert.definition_id:
        offered.append((Scope.DEFINITION, str(Scope.DEFINITION.label)))
    if alert.backend_id:
        offered.append((Scope.BACKEND, str(Scope.BACKEND.label)))
    return offered


def covered_by(alert: Alert, scope: str) -> Q:
    """The alerts a silence of this scope, set on this alert, covers."""
    team = Q(rule__team_id=alert.rule.team_id, backend_id=alert.backend_id)
    if scope == Scope.DEFINITION:
        return team & Q(definition_id=alert.definition_id)
    if scope == Scope.BACKEND:
        return team
    return Q(rule_id=alert.rule_id, key=alert.key)


def silence_over(rule, backend: Backend | None, key: str, definition_id: str, now) -> dict:
    """The silence a new alert opens under, as its fields ({} when none)."""
    covering = Q(silence_scope=Scope.SIGNATURE, rule=rule, key=key)
    team = Q(rule__team_id=rule.team_id, backend=backend)
    if backend is not None and definition_id:
        covering |= team & Q(silence_scope=Scope.DEFINITION, definition_id=definition_id)
    if backend is not None:
        covering |= team & Q(silence_scope=Scope.BACKEND)
    found = (
        Alert.objects.filter(covering, silenced_until__gt=now)
        .order_by("-silenced_until")
        .values("silenced_until", "silenced_by_id", "silence_reason", "silence_scope")
        .first()
    )
    return dict(found) if found else {}


def silence(alert: Alert, scope: str, until: datetime, by, reason: str, now: datetime) -> int:
    """Silence the alert and every firing one its scope covers; how many were silenced."""
    fields = {
        "silenced_until": until,
        "silenced_by_id": by.pk,
        "silence_reason": reason,
        "silence_scope": scope,
    }
    covered = list(
        Alert.objects.filter(covered_by(alert, scope), state=Alert.State.FIRING)
        .exclude(pk=alert.pk)
        .values_list("pk", flat=True)
    )
    Alert.objects.filter(pk__in=[alert.pk, *covered]).update(**fields)
    label = dict(scopes_for(alert)).get(scope, scope)
    note = f"{label}, until {until:%Y-%m-%d %H:%M} UTC: {reason}"[:500]
    AlertEvent.objects.bulk_create(
        AlertEvent(alert_id=pk, at=now, what=AlertEvent.What.SILENCED, by_id=by.pk, note=note)
        for pk in [alert.pk, *covered]
    )
    return 1 + len(covered)


def lift(alert: Alert, by, now: datetime):
    """End the alert's silence, on every alert that silence covers; those alerts."""
    lifted = Alert.objects.filter(
        covered_by(alert, alert.silence_scope), silenced_until=alert.silenced_until
    )
    pks = list(lifted.values_list("pk", flat=True))
    Alert.objects.filter(pk__in=pks).update(silenced_until=now)
    AlertEvent.objects.bulk_create(
        AlertEvent(alert_id=pk, at=now, what=AlertEvent.What.UNSILENCED, by_id=by.pk) for pk in pks
    )
    return Alert.objects.filter(pk__in=pks)

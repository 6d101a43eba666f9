"""Following an accepted action to its outcome: the vendor's state read again until it shows
the action (confirmed), or the action's deadline passes (unconfirmed)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from instances import sync
from instances.connectors.acting import Move
from instances.connectors.base import ConnectorError
from instances.models import Instance, Status
from instances.registry import CONNECTORS

from .models import Action
from .perform import acting_connector, target_of

log = logging.getLogger(__name__)


def follow(action_id: int) -> float | None:
    """Read the action's runs again and judge it: confirmed when the vendor's state shows it,
    unconfirmed at its deadline. The seconds until the next look, or None when it ended."""
    action = Action.objects.filter(pk=action_id).first()
    if action is None or action.state != Action.State.ACCEPTED or action.backend is None:
        return None
    move = CONNECTORS[action.backend.kind].moves.get(action.move)
    if move and move.on_schedule:
        outcome = schedule_shows(action, move)
    else:
        ids = [action.run_external_id, *([action.new_run_id] if action.new_run_id else [])]
        outcome = confirmed(action) if sync.reread(action.backend.pk, ids) else ""
    if outcome:
        end(action, Action.State.CONFIRMED, outcome)
        return None
    if action.deadline is None or timezone.now() >= action.deadline:
        end(action, Action.State.UNCONFIRMED, "The vendor's state did not show it by the deadline.")
        return None
    return settings.RUNBOARD_ACTION_FOLLOW_SECONDS


def schedule_shows(action: Action, move: Move) -> str:
    """The definition's schedule as the vendor tells it now, if it is what the move asked."""
    root = Instance.objects.filter(
        backend=action.backend_id, external_id=action.run_external_id
    ).first()
    if root is None or action.backend is None:
        return ""
    acting = acting_connector(action.backend)
    try:
        paused = acting.schedule_paused(target_of(root))
    except ConnectorError as exc:
        log.info("action %s: schedule not read: %s", action.pk, exc)
        return ""
    wanted = move.name == "pause"
    return f"Its schedule is {'paused' if wanted else 'running'}." if paused is wanted else ""


def confirmed(action: Action) -> str:
    """What the vendor's state now says of the action, or "" while it says nothing yet."""
    runs = Instance.objects.filter(backend=action.backend_id)
    if action.new_run_id:
        new = runs.filter(external_id=action.new_run_id, parent__isnull=True).first()
        return f"New run {new.external_id} is {new.get_status_display().lower()}." if new else ""
    run = runs.filter(external_id=action.step_external_id or action.run_external_id).first()
    if run is None:
        return ""
    before = Status(action.before.get("status", ""))
    if action.move in ("stop", "cancel_step"):
        return (
            f"It is {run.get_status_display().lower()}." if Status(run.status).is_terminal else ""
        )
    moved_on = run.status != before or (run.attempts or 0) > (action.before.get("attempts") or 0)
    return (
        f"It went {before.label.lower()} → {run.get_status_display().lower()}." if moved_on else ""
    )


def end(action: Action, state: str, outcome: str) -> None:
    Action.objects.filter(pk=action.pk, state=Action.State.ACCEPTED).update(
        state=state, outcome=outcome, ended_at=timezone.now()
    )

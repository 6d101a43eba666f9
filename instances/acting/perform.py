"""Acting on a vendor from Runboard, the one way: a move's preview, then the action itself:
checked, written to the audit log, sent once, and handed to instances.acting.following until
the vendor's own state confirms it or its deadline passes (what a run offers is
instances.acting.offers).

Nothing here retries a vendor call: a refused, failed or unanswered action ends so, and only
a person asks again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from instances.connectors.acting import Move, Target, VendorCall
from instances.connectors.base import Connector, ConnectorError
from instances.models import Backend, Edge, Instance
from instances.people import roles
from instances.people.models import RANKS, Role
from instances.registry import CONNECTORS

from .labels import LABELS
from .models import Action
from .offers import in_flight, moves_of, root_of

log = logging.getLogger(__name__)

CREDENTIAL_NAMES = ("username", "access_key_id", "ak", "app_key", "user")


class Refused(Exception):
    """Runboard will not send this action; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def deadline_seconds(run: Instance) -> float:
    """How long an accepted action is followed: two poll intervals, plus the time a retried
    step takes to show, at least RUNBOARD_ACTION_DEADLINE_SECONDS."""
    return max(settings.RUNBOARD_ACTION_DEADLINE_SECONDS, 2 * run.backend.poll_interval + 5)


def target_of(run: Instance) -> Target:
    root = root_of(run)
    step = run if run.parent_id else None
    return Target(
        run_id=root.external_id,
        definition_id=root.definition_id,
        raw=root.raw,
        step_id=step.external_id if step else "",
        step_definition_id=step.definition_id if step else "",
        step_raw=step.raw if step else None,
    )


def connector(run: Instance) -> Connector:
    return acting_connector(run.backend)


def acting_connector(backend: Backend) -> Connector:
    """The backend's connector with its acting credential (the polls' where it has none)."""
    return CONNECTORS[backend.kind](backend.connector_config(acting=True))


@dataclass(frozen=True)
class Preview:
    steps: list[str]  # names of the steps it touches
    source: str  # "the vendor's dry run", or "the run's graph"
    call: VendorCall
    url: str
    problem: str = ""  # the dry run failed: said, and the action may still be sent
    paused: bool | None = None  # a schedule move: whether the schedule is paused now


def preview(run: Instance, move: Move) -> Preview:
    """What the move would do: the vendor's dry run where it has one, else the steps it
    touches by the run's graph as Runboard stored it; a schedule's state as it is now."""
    acting = connector(run)
    target = target_of(run)
    call = acting.call_for(move, target)
    url = call.url(run.backend.base_url)
    try:
        said = acting.dry_run(move, target)
        paused = acting.schedule_paused(target) if move.on_schedule else None
    except ConnectorError as exc:
        return Preview(touched(run, move), _("the run's graph"), call, url, str(exc))
    if said is not None:
        return Preview(said, _("the vendor's dry run"), call, url)
    return Preview(touched(run, move), _("the run's graph"), call, url, paused=paused)


def touched(run: Instance, move: Move) -> list[str]:
    """The steps a move touches, by the stored graph: a step move, its step (and, for a new
    run from it, what is downstream); a run move, its steps in the move's statuses and what
    is downstream of them."""
    root = root_of(run)
    if move.on_schedule:
        return [
            _("the schedule of {definition}: its next runs").format(
                definition=root.definition_name or root.definition_id
            )
        ]
    steps = {s.pk: s for s in Instance.objects.filter(parent=root).only("name", "status")}
    start = {run.pk} if move.on_step else {pk for pk, s in steps.items() if s.status in move.when}
    if move.new_run or not move.on_step:
        below: dict[int, list[int]] = {}
        for up, down in Edge.objects.filter(parent=root).values_list(
            "upstream_id", "downstream_id"
        ):
            below.setdefault(up, []).append(down)
        todo = list(start)
        while todo:
            for down in below.get(todo.pop(), []):
                if down not in start:
                    start.add(down)
                    todo.append(down)
    return sorted(steps[pk].name for pk in start if pk in steps)


def may_send(user, run: Instance, move: Move | None, typed: str) -> tuple[str, str]:
    """(the user's role in the run's team, why they may not send this move: "" if they may)."""
    team = run.backend.team_id or 0
    role = next(
        (r for r in (Role.ADMIN, Role.OPERATOR, Role.VIEWER) if roles.may(user, r, team)), ""
    )
    if RANKS.get(role, -1) < RANKS[Role.OPERATOR]:
        return role, _("Only an operator or a team admin of this run's team may act on it.")
    if move and move.careful and role != Role.ADMIN and typed.strip() != root_of(run).name.strip():
        return role, _("This action needs a team admin, or the run's name typed to confirm it.")
    return role, ""


def request(user, run: Instance, move_name: str, reason: str, key: str, typed: str = "") -> Action:
    """Check, write, send and start following one action; the audit row is written first and
    completed after, whatever happens. A key already used returns its action (a second click
    of the same confirmation). Refused (with a "denied" row) when it may not be done."""
    if existing := Action.objects.filter(key=key).first():
        return existing
    move = moves_of(run).get(move_name)
    root = root_of(run)
    action = Action(
        key=key[:64],
        person=user if user.is_authenticated else None,
        person_name=user.get_username(),
        team=run.backend.team,
        team_name=run.backend.team.name if run.backend.team else "",
        backend=run.backend,
        backend_name=run.backend.name,
        run=run,
        run_external_id=root.external_id,
        step_external_id=run.external_id if run.parent_id else "",
        move=move_name[:20],
        reason=reason.strip(),
        before={"status": run.status, "run_status": root.status, "attempts": run.attempts},
    )
    action.role, forbidden = may_send(user, run, move, typed)
    why_not = forbidden
    if not why_not and move is None:
        why_not = _("This backend offers no {action} here.").format(action=move_name)
    elif not why_not and move and run.status not in move.when:
        why_not = _("Not while this is {status}.").format(status=run.get_status_display().lower())
    elif not why_not and not action.reason:
        why_not = _("Say why (a sentence, or an incident link).")
    if why_not or move is None:
        deny(action, why_not)
        raise Refused(why_not, 403 if forbidden else 409)
    acting = connector(run)
    try:
        call = acting.call_for(move, target_of(run))
    except ConnectorError as exc:  # e.g. which Airflow it is could not be told
        action.state, action.vendor_message = Action.State.FAILED, str(exc)[:2000]
        action.outcome, action.ended_at = (
            "Not sent: the vendor could not be reached.",
            timezone.now(),
        )
        action.save()
        return action
    action.method, action.url = call.method, call.url(run.backend.base_url)
    action.body = call.content or ""
    action.credential = credential_of(run)
    action.preview = touched(run, move)
    action.state = Action.State.REQUESTED
    try:
        with transaction.atomic():
            action.save()
    except IntegrityError as exc:
        if existing := Action.objects.filter(key=key).first():
            return existing
        busy = in_flight(root)
        deny(action, "Another action on this run is in flight.")
        raise Refused(
            f"{LABELS[busy.move][0] if busy else 'An action'} is in flight on this run."
        ) from exc
    send(action, acting, call, deadline_seconds(run))
    return action


def deny(action: Action, why: str) -> None:
    action.state, action.outcome = Action.State.DENIED, why
    action.ended_at = timezone.now()
    action.key = f"denied-{timezone.now().timestamp()}-{action.key}"[:64]
    action.save()
    log.warning(
        "action %s on %s by %s denied: %s",
        action.move,
        action.run_external_id,
        action.person_name,
        why,
    )


def send(action: Action, acting: Connector, call: VendorCall, follow_for: float) -> None:
    try:
        answer = acting.send(call)
    except ConnectorError as exc:  # no answer: it may or may not have happened
        action.state, action.vendor_message = Action.State.UNCONFIRMED, str(exc)[:2000]
        action.outcome = "The vendor did not answer; look at the run before asking again."
        action.answered_at = action.ended_at = timezone.now()
        action.save()
        return
    action.answered_at = timezone.now()
    action.vendor_status, action.vendor_message = answer.status, answer.message[:2000]
    action.vendor_answer, action.request_id = answer.body, answer.request_id[:200]
    action.new_run_id = answer.new_run_id[:200]
    if not answer.accepted:
        action.state, action.ended_at = Action.State.FAILED, action.answered_at
        action.outcome = f"The vendor refused: {answer.message or answer.status}"
        action.save()
        return
    action.state = Action.State.ACCEPTED
    action.deadline = action.answered_at + timedelta(seconds=follow_for)
    action.save()
    follow_soon(action)


FOLLOW_TASK = "instances.follow_action"  # instances/acting/tasks.py


def follow_soon(action: Action) -> None:
    try:
        current_app.send_task(FOLLOW_TASK, (action.pk,))
    except Exception as exc:
        log.error("action %s not followed now: %s", action.pk, exc)


def credential_of(run: Instance) -> str:
    """Which credential acts, and whose it is (never the secret)."""
    own = run.backend.acting_credentials
    secrets = own or run.backend.credentials
    who = next((str(secrets[k]) for k in CREDENTIAL_NAMES if secrets.get(k)), "")
    return f"{'acting' if own else 'polling'} credential{f' ({who})' if who else ''}"

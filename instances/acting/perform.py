"""Acting on a vendor from Runboard, the one way: what a run offers a person (and why not),
its preview, then the action itself: checked, written to the audit log, sent once, and
followed until the vendor's own state confirms it or its deadline passes.

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

from instances import sync
from instances.connectors.acting import Move, Target, VendorCall
from instances.connectors.base import Connector, ConnectorError
from instances.models import Backend, Edge, Instance, Status
from instances.people import roles
from instances.people.models import RANKS, Role
from instances.registry import CONNECTORS

from .labels import LABELS
from .models import Action

log = logging.getLogger(__name__)

CREDENTIAL_NAMES = ("username", "access_key_id", "ak", "app_key", "user")


class Refused(Exception):
    """Runboard will not send this action; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Offer:
    move: Move
    target_pk: int  # the run or step it acts on
    label: str
    explains: str
    why_not: str = ""  # empty: it may be done now

    @property
    def name(self) -> str:
        return self.move.name


def deadline_seconds(run: Instance) -> float:
    """How long an accepted action is followed: two poll intervals, plus the time a retried
    step takes to show, at least RUNBOARD_ACTION_DEADLINE_SECONDS."""
    return max(settings.RUNBOARD_ACTION_DEADLINE_SECONDS, 2 * run.backend.poll_interval + 5)


def root_of(run: Instance) -> Instance:
    return run.parent if run.parent is not None else run


def moves_of(run: Instance) -> dict[str, Move]:
    return CONNECTORS[run.backend.kind].moves if run.backend.may_act else {}


def offers(user, run: Instance) -> list[Offer]:
    """What this run (or step) offers the user: each documented move, with the reason it
    cannot be done now. None to a viewer, or on a read-only backend."""
    if not moves_of(run) or not roles.may(user, Role.OPERATOR, run.backend.team_id or 0):
        return []  # a read-only backend, a viewer, or a backend of no team
    return offered(run, in_flight(root_of(run)))


def offers_of_runs(user, runs: list[Instance]) -> dict[int, list[Offer]]:
    """offers() of many top-level runs (the inbox's), in two queries whatever their number."""
    acting = [run for run in runs if moves_of(run)]
    if not acting:
        return {}
    teams = set(roles.teams_where(user, Role.OPERATOR).values_list("pk", flat=True))
    mine = [run for run in acting if run.backend.team_id in teams]
    busy = (
        {
            (action.backend_id, action.run_external_id): action
            for action in Action.objects.filter(
                backend__in={run.backend_id for run in mine},
                run_external_id__in={run.external_id for run in mine},
                state__in=Action.IN_FLIGHT,
            )
        }
        if mine
        else {}
    )
    return {run.pk: offered(run, busy.get((run.backend_id, run.external_id))) for run in mine}


def offered(run: Instance, busy: Action | None) -> list[Offer]:
    found = []
    for move in moves_of(run).values():
        if move.on_step != bool(run.parent_id):
            continue
        label, explains = LABELS[move.name]
        why_not = ""
        if busy:
            why_not = _("{action} is in flight on this run ({state}).").format(
                action=LABELS[busy.move][0], state=busy.get_state_display()
            )
        elif run.status not in move.when:
            allowed = _(" or ").join(sorted(str(s.label).lower() for s in move.when))
            why_not = _("Only when {allowed}; this is {status}.").format(
                allowed=allowed, status=run.get_status_display().lower()
            )
        found.append(Offer(move, run.pk, str(label), str(explains), why_not))
    return found


def actions_on(run: Instance):
    """The actions on this run (and its steps), newest first."""
    root = root_of(run)
    return Action.objects.filter(
        backend=root.backend_id, run_external_id=root.external_id
    ).order_by("-requested_at")


def in_flight(root: Instance) -> Action | None:
    return Action.objects.filter(
        backend=root.backend_id, run_external_id=root.external_id, state__in=Action.IN_FLIGHT
    ).first()


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

"""What a run (or a step) offers a person to do on its vendor, and why not now: each move its
backend documents, checked against the person's role, the run's status and any action
already in flight on it. Nothing here acts (instances.acting.perform does)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from instances.connectors.acting import Move
from instances.models import Instance
from instances.people import roles
from instances.people.models import Role
from instances.registry import CONNECTORS

from .labels import LABELS
from .models import Action


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

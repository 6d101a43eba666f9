"""What a person may do in a team, and the one way memberships change (each change audited)."""

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet

from .models import RANKS, Membership, MembershipChange


def teams_where(user, role: str) -> QuerySet[Group]:
    """The teams in which the user holds `role` or a higher one (every team: a superuser)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Group.objects.none()
    if user.is_superuser:
        return Group.objects.all()
    held = [name for name, rank in RANKS.items() if rank >= RANKS[role]]
    return Group.objects.filter(memberships__user=user, memberships__role__in=held)


def may(user, role: str, team_id: int) -> bool:
    return teams_where(user, role).filter(pk=team_id).exists()


@transaction.atomic
def place(person, team: Group, role: str | None, by=None, from_provider: bool = False) -> bool:
    """Put `person` in `team` with `role` (None: out of it); audited when anything changed.
    True when it did."""
    held = Membership.objects.select_for_update().filter(user=person, team=team).first()
    if role is None:
        if held is None:
            return False
        held.delete()
        what = MembershipChange.What.LEFT
    elif held is None:
        Membership.objects.create(user=person, team=team, role=role, from_provider=from_provider)
        what = MembershipChange.What.JOINED
    elif held.role != role or held.from_provider != from_provider:
        changed_role = held.role != role
        held.role, held.from_provider = role, from_provider
        held.save(update_fields=["role", "from_provider"])
        if not changed_role:
            return False
        what = MembershipChange.What.ROLE
    else:
        return False
    MembershipChange.objects.create(by=by, team=team, person=person, what=what, role=role or "")
    return True

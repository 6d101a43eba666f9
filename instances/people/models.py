"""People's places in teams. A team is a Django group; a person's membership carries a role,
and every change to one is kept (who, when, what)."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    # reads the team's runs, alerts and backends
    VIEWER = "viewer", _("Viewer")
    # also acknowledges and silences alerts, edits alerting, polls and acts on runs
    OPERATOR = "operator", _("Operator")
    # also manages the team's members
    ADMIN = "admin", _("Team admin")


RANKS: dict[str, int] = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    # set by the identity provider's groups claim at sign-in (and reset there), else by a
    # person in Runboard
    from_provider = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.get_role_display()})"


class MembershipChange(models.Model):
    """The audit of memberships: who changed whose place in which team, and how."""

    class What(models.TextChoices):
        JOINED = "joined", _("joined")
        ROLE = "role", _("role changed")
        LEFT = "left", _("removed")

    at = models.DateTimeField(auto_now_add=True)
    # blank: the identity provider, at the person's sign-in
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    what = models.CharField(max_length=10, choices=What.choices)
    role = models.CharField(max_length=10, choices=Role.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["team", "-at"], name="membership_change_team_idx")]

    def __str__(self) -> str:
        return f"{self.person} {self.get_what_display()} {self.team} at {self.at:%Y-%m-%d %H:%M}"


class Invitation(models.Model):
    """A team admin's invitation of an email address into their team, with a role. The link
    mailed holds a key of which only the hash is kept; it works once, for that address,
    within a week."""

    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    key_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.email} to {self.team} ({self.get_role_display()})"


class ClosedDay(models.Model):
    """A day the team's calendar is closed besides its holidays (a company day off, a
    migration freeze): the runs of rules that follow a calendar are not expected on it."""

    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="closed_days")
    day = models.DateField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "day"], name="closed_once")]

    def __str__(self) -> str:
        return f"{self.team} closed on {self.day}"

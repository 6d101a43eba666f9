"""The audit log of actions on vendors: one row per attempt, written before the vendor is
called and completed after (its answer, then its confirmed outcome). Nobody edits it: the
admin shows it read-only, and only instances.acting.perform and .following write it."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from instances.models import Backend, Instance
from instances.people.models import Role

from .labels import LABELS


class Action(models.Model):
    class State(models.TextChoices):
        DENIED = "denied", _("denied")  # refused by Runboard: role, state, or another in flight
        REQUESTED = "requested", _("requested")  # written; the vendor is being called
        ACCEPTED = "accepted", _("accepted")  # the vendor said yes; its runs are followed
        CONFIRMED = "confirmed", _("confirmed")  # the vendor's state shows it happened
        FAILED = "failed", _("failed")  # the vendor said no
        UNCONFIRMED = "unconfirmed", _("unconfirmed")  # no answer, or no sign of it by the deadline

    IN_FLIGHT = (State.REQUESTED, State.ACCEPTED)

    # the preview form's key: a second click of the same confirmation is the same action
    key = models.CharField(max_length=64, unique=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    # who, as they were then (names kept: people and teams can go)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    person_name = models.CharField(max_length=150)
    team = models.ForeignKey(Group, null=True, on_delete=models.SET_NULL, related_name="+")
    team_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=10, blank=True)
    # on what
    backend = models.ForeignKey(Backend, null=True, on_delete=models.SET_NULL, related_name="+")
    backend_name = models.CharField(max_length=100)
    run = models.ForeignKey(Instance, null=True, on_delete=models.SET_NULL, related_name="actions")
    run_external_id = models.CharField(max_length=200)
    step_external_id = models.CharField(max_length=200, blank=True)
    move = models.CharField(max_length=20)
    reason = models.TextField()
    # what was sent, with which credential (never a secret: headers are not kept)
    credential = models.CharField(max_length=200, blank=True)
    method = models.CharField(max_length=10, blank=True)
    url = models.TextField(blank=True)
    body = models.TextField(blank=True)
    before = models.JSONField(default=dict)  # statuses and attempts when asked
    preview = models.JSONField(default=list)  # the steps it was to touch
    # what came of it
    state = models.CharField(max_length=12, choices=State.choices)
    vendor_status = models.PositiveSmallIntegerField(null=True)
    vendor_message = models.TextField(blank=True)
    vendor_answer = models.TextField(blank=True)
    request_id = models.CharField(max_length=200, blank=True)
    new_run_id = models.CharField(max_length=200, blank=True)
    answered_at = models.DateTimeField(null=True)
    deadline = models.DateTimeField(null=True)
    ended_at = models.DateTimeField(null=True)
    outcome = models.TextField(blank=True)

    class Meta:
        constraints = [
            # one action in flight per run: the vendor is never asked twice at once
            models.UniqueConstraint(
                fields=["backend", "run_external_id"],
                condition=Q(state__in=["requested", "accepted"]),
                name="one_action_in_flight",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "-requested_at"], name="action_team_idx"),
            models.Index(fields=["run", "-requested_at"], name="action_run_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.move} on {self.run_external_id} by {self.person_name}: {self.state}"

    @property
    def in_flight(self) -> bool:
        return self.state in self.IN_FLIGHT

    @property
    def label(self) -> str:
        return str(LABELS.get(self.move, (self.move, ""))[0])

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label) if self.role in Role.values else self.role

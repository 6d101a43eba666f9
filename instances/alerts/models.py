"""Alerting's records: where a team is told (Channel), what it wants to hear of (AlertRule),
what is or was wrong (Alert, with its history of AlertEvents) and each message sent
(Delivery), kept until it went through."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from instances import calendars, crypto, zones
from instances.models import Backend, DataProduct, Instance, ProductPart, team_scope

from .headlines import headline


class ChannelQuerySet(models.QuerySet):
    def visible_to(self, user) -> ChannelQuerySet:
        scope = team_scope(user, "team")
        return self if scope is None else self.filter(scope)

    def failing(self) -> ChannelQuerySet:
        """Channels whose messages are not getting through: one waits for a retry, or one
        was given up within the last day."""
        since = timezone.now() - timedelta(days=1)
        retrying = Q(deliveries__state="pending", deliveries__attempts__gt=0)
        dead = Q(deliveries__state="dead", deliveries__created_at__gte=since)
        return self.filter(retrying | dead).distinct()


class Channel(models.Model):
    class Kind(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook (JSON, signed)")
        EMAIL = "email", _("Email")
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"
        FEISHU = "feishu", "Feishu / Lark"
        DINGTALK = "dingtalk", "DingTalk"
        WECOM = "wecom", "WeCom"

    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="alert_channels")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # a webhook URL, email addresses (comma-separated) or a chat bot's webhook / Apprise URL;
    # encrypted, as chat URLs carry their bot's token
    target_encrypted = models.TextField(editable=False)
    secret_encrypted = models.TextField(editable=False, blank=True)  # webhook signing secret
    max_per_minute = models.PositiveIntegerField(
        default=20, help_text=_("messages a minute at most; the rest wait, none is dropped")
    )
    give_up_after_hours = models.PositiveIntegerField(
        default=24,
        blank=True,  # left out of a form: the default
        help_text=_("a message not taken within this many hours is given up (dead)"),
    )
    give_up_after_attempts = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("or after this many attempts (blank: by age only)")
    )
    group_seconds = models.PositiveIntegerField(
        default=60,
        blank=True,  # left out of a form: the default
        help_text=_("later alerts within this many seconds go as one digest (0: each alone)"),
    )
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default="en",
        help_text=_("the language its messages are written in"),
    )
    enabled = models.BooleanField(default=True)
    # one message in flight per channel: a slow channel holds one sender, never many
    sending_until = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        db_table = "instances_channel"  # made in the instances app; kept as it is
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="channel_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def save(self, *args, **kwargs) -> None:
        if not self.secret_encrypted:
            made = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
            self.secret_encrypted = crypto.encrypt({"secret": made})
        super().save(*args, **kwargs)

    @property
    def target(self) -> str:
        return crypto.decrypt(self.target_encrypted).get("target", "")

    @target.setter
    def target(self, value: str) -> None:
        self.target_encrypted = crypto.encrypt({"target": value})

    @property
    def masked_target(self) -> str:
        return crypto.mask(self.target)

    @property
    def signing_secret(self) -> str:
        """Standard Webhooks secret (whsec_…), made when the channel is first saved."""
        return crypto.decrypt(self.secret_encrypted).get("secret", "")


class AlertRuleQuerySet(models.QuerySet):
    def visible_to(self, user) -> AlertRuleQuerySet:
        scope = team_scope(user, "team")
        return self if scope is None else self.filter(scope)


class AlertRule(models.Model):
    class Kind(models.TextChoices):
        FAILED = "failed", _("A run failed")
        STUCK = "stuck", _("A run is stuck")
        MISSING = "missing", _("A scheduled run is missing")
        STALE = "stale", _("A backend is stale or unreachable")
        LATE = "late", _("A deadline passed without success")
        LATE_SOON = "late_soon", _("A run will miss its deadline")

    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    # scope: blank means any; the team's backends only, or this one
    backend = models.ForeignKey(
        Backend, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    definition_id = models.CharField(max_length=200, blank=True)
    product = models.ForeignKey(
        DataProduct,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rules",
        help_text=_("its definitions only; a late rule holds them to the deadline together"),
    )
    owner = models.CharField(max_length=200, blank=True)
    name_pattern = models.CharField(
        max_length=200, blank=True, help_text=_("shell-style, case-insensitive: nightly_*")
    )
    after_failures = models.PositiveSmallIntegerField(
        default=1, help_text=_("fire on the Nth failure in a row")
    )
    stuck_factor = models.FloatField(
        default=3.0, help_text=_("stuck when running this many times its usual duration")
    )
    silent_minutes = models.PositiveIntegerField(
        default=0, help_text=_("or when nothing has changed in it for this long (0: never)")
    )
    grace_minutes = models.PositiveIntegerField(
        default=30, help_text=_("missing when not started this long after its usual time")
    )
    deadline = models.TimeField(
        null=True, blank=True, help_text=_("late: the time of day it must have succeeded by")
    )
    deadline_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[zones.validate_zone],
        help_text=_("the deadline's time zone (blank: the backend's)"),
    )
    calendar = models.CharField(
        max_length=10,
        blank=True,
        default=calendars.EVERY_DAY,
        choices=[
            (calendars.EVERY_DAY, _("every day")),
            (calendars.WEEKDAYS, _("Monday to Friday")),
            (calendars.CHINA, _("China's working days (holidays and make-up days)")),
        ],
        help_text=_("missing and late: runs are expected on its working days only"),
    )
    repeat_minutes = models.PositiveIntegerField(
        default=0,
        blank=True,  # left out of a form: the default
        help_text=_("tell again this often while it fires unacknowledged (0: once)"),
    )
    channels = models.ManyToManyField(
        Channel, blank=True, related_name="rules", db_table="instances_alertrule_channels"
    )

    objects = AlertRuleQuerySet.as_manager()

    class Meta:
        db_table = "instances_alertrule"  # made in the instances app; kept as it is
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="rule_name")]

    def __str__(self) -> str:
        return self.name

    @cached_property
    def parts(self) -> frozenset[tuple[int, str]]:
        """(backend, definition) of its data product: read once a rule."""
        if self.product_id is None:
            return frozenset()
        parts = ProductPart.objects.filter(product_id=self.product_id)
        return frozenset(parts.values_list("backend_id", "definition_id"))

    def holds_some_of(self, backend: Backend) -> bool:
        """Whether the rule covers some of the backend's definitions: its team's, naming it,
        or holding a data product with a definition there."""
        return (
            self.team_id == backend.team_id
            and self.backend_id in (None, backend.pk)
            and (self.product_id is None or any(pk == backend.pk for pk, _d in self.parts))
        )

    def covers(self, backend_id: int, definition_id: str) -> bool:
        """Whether the rule's scope holds this definition (its owner and name pattern aside)."""
        return (
            self.backend_id in (None, backend_id)
            and self.definition_id in ("", definition_id)
            and (self.product_id is None or (backend_id, definition_id) in self.parts)
        )

    @property
    def calendar_warning(self) -> str:
        """Said where the rule is shown: its calendar does not know this year yet."""
        return calendars.warning(self.calendar, timezone.now().year)


class AlertQuerySet(models.QuerySet):
    def visible_to(self, user) -> AlertQuerySet:
        scope = team_scope(user, "rule__team")
        return self if scope is None else self.filter(scope)

    def needing_attention(self) -> AlertQuerySet:
        """Firing, and neither acknowledged nor silenced: what the top bar counts."""
        return self.filter(state=Alert.State.FIRING, acknowledged_at__isnull=True).exclude(
            silenced_until__gt=timezone.now()
        )


class Alert(models.Model):
    """One thing wrong, while it lasts: a (rule, definition, error signature) failing, a run
    stuck, a schedule missed, a backend stale. Repeats fold into it."""

    class State(models.TextChoices):
        FIRING = "firing", _("Firing")
        RESOLVED = "resolved", _("Resolved")

    class SilenceScope(models.TextChoices):
        SIGNATURE = "signature", _("this error of this definition")
        DEFINITION = "definition", _("this definition, whatever the error")
        BACKEND = "backend", _("everything from this backend")

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    key = models.CharField(max_length=400)
    state = models.CharField(max_length=10, choices=State.choices, default=State.FIRING)
    backend = models.ForeignKey(Backend, null=True, on_delete=models.CASCADE, related_name="+")
    definition_id = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=300)
    run = models.ForeignKey(Instance, null=True, on_delete=models.SET_NULL, related_name="+")
    culprit = models.CharField(max_length=300, blank=True)  # the failing step's name
    signature = models.CharField(max_length=200, blank=True)
    error_line = models.TextField(blank=True)
    streak = models.PositiveIntegerField(default=1)  # failures in a row
    occurrences = models.PositiveIntegerField(default=1)  # repeats folded into this alert
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    silenced_until = models.DateTimeField(null=True, blank=True)
    silenced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    silence_reason = models.CharField(max_length=300, blank=True)
    silence_scope = models.CharField(
        max_length=12, choices=SilenceScope.choices, default=SilenceScope.SIGNATURE
    )
    # when its channels were last told it fires: null while never told (opened in a silence),
    # and then its resolution is not told either
    told_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveIntegerField(default=0)  # times told again while firing

    objects = AlertQuerySet.as_manager()

    class Meta:
        db_table = "instances_alert"  # made in the instances app; kept as it is
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "key"], condition=Q(state="firing"), name="one_firing_alert_per_key"
            )
        ]
        indexes = [
            models.Index(fields=["state", "-updated_at"], name="alert_state_updated"),
            models.Index(
                fields=["silenced_until"],
                condition=Q(silenced_until__isnull=False),
                name="alert_silenced_until",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_silenced(self, now) -> bool:
        return self.silenced_until is not None and self.silenced_until > now

    @property
    def headline(self) -> str:
        """Its title in the active language (instances/alerts/headlines.py)."""
        return headline(self)


class AlertEvent(models.Model):
    class What(models.TextChoices):
        FIRED = "fired", _("Fired")
        REPEATED = "repeated", _("Repeated")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        SILENCED = "silenced", _("Silenced")
        UNSILENCED = "unsilenced", _("Silence lifted")
        TOLD = "told", _("Told after its silence")
        REMINDED = "reminded", _("Told again")
        RESOLVED = "resolved", _("Resolved")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    what = models.CharField(max_length=15, choices=What.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "instances_alertevent"  # made in the instances app; kept as it is
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_what_display()} at {self.at:%Y-%m-%d %H:%M}"


class Delivery(models.Model):
    """One message to one channel, kept pending until the channel took it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        DEAD = "dead", _("Given up")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=15)  # fired, resolved or "reminder N"
    message = models.JSONField()  # what is sent, fixed when queued
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    response_code = models.IntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # went out inside that delivery's digest (null: the message itself went)
    sent_with = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "instances_delivery"  # made in the instances app; kept as it is
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "channel", "event"], name="one_message_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
            # a channel's last messages: its group window and its rate
            models.Index(
                fields=["channel", "-sent_at"],
                condition=Q(state="sent"),
                name="delivery_channel_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel.name}: {self.state}"


class DeadlineDay(models.Model):
    """How one working day went for a definition against a late rule's deadline, kept once
    decided (met; or missed, and when it succeeded after all): rates over 7, 30 and 90 days
    read these few rows, not the runs."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="days")
    backend = models.ForeignKey(Backend, on_delete=models.CASCADE, related_name="+")
    definition_id = models.CharField(max_length=200)
    day = models.DateField()
    met = models.BooleanField()
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # a definition id is its backend's own: two backends may both have a "daily"
            models.UniqueConstraint(
                fields=["rule", "backend", "definition_id", "day"], name="deadline_day"
            )
        ]
        indexes = [models.Index(fields=["backend", "day"], name="deadline_day_backend_idx")]

    def __str__(self) -> str:
        return f"{self.definition_id} {self.day}: {'met' if self.met else 'missed'}"

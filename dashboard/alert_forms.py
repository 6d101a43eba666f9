"""Team operators edit their team's channels and rules here; a form only offers what the user
may choose (their teams, the backends they see, their team's channels)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from instances.alerts.channels import target_error
from instances.alerts.models import AlertRule, Channel
from instances.models import Backend, DataProduct, Rollup
from instances.people import roles
from instances.people.models import Role

# which of a rule's fields mean something for each kind (the form shows only those)
KIND_FIELDS = {
    "definition_id": ("failed", "stuck", "missing", "late", "late_soon"),
    "product": ("failed", "stuck", "missing", "late", "late_soon"),
    "owner": ("failed", "stuck", "missing", "late", "late_soon"),
    "name_pattern": ("failed", "stuck", "missing", "late", "late_soon"),
    "after_failures": ("failed",),
    "stuck_factor": ("stuck",),
    "silent_minutes": ("stuck",),
    "grace_minutes": ("missing",),
    "deadline": ("late", "late_soon"),
    "deadline_zone": ("late", "late_soon"),
    "calendar": ("missing", "late", "late_soon"),
}
DEFINITIONS_OFFERED = 500  # definition ids the rule form suggests


def operated_teams(user):
    """Teams the user may edit alerting for: where they are an operator or team admin."""
    return roles.teams_where(user, Role.OPERATOR)


def can_operate(user, team_id: int) -> bool:
    return roles.may(user, Role.OPERATOR, team_id)


class ChannelForm(forms.ModelForm):
    target = forms.CharField(
        max_length=1000,
        label=_("Target"),
        help_text=_(
            "Webhook: its URL. Email: addresses, comma-separated. Slack, WeCom, Feishu, "
            "DingTalk: the bot's webhook URL; Teams (and others): an Apprise URL."
        ),
    )

    class Meta:
        model = Channel
        fields = [
            "team",
            "name",
            "kind",
            "target",
            "language",
            "max_per_minute",
            "group_seconds",
            "give_up_after_hours",
            "give_up_after_attempts",
            "enabled",
        ]
        labels = {
            "team": _("Team"),
            "name": _("Name"),
            "kind": _("Kind"),
            "language": _("Language"),
            "max_per_minute": _("At most a minute"),
            "group_seconds": _("Group for (seconds)"),
            "give_up_after_hours": _("Give up after (hours)"),
            "give_up_after_attempts": _("Give up after (attempts)"),
            "enabled": _("Enabled"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choose_team(self, operated_teams(user))
        language = self.fields["language"]
        language.required = False  # left out: the model's default
        if not self.instance.pk:  # a new channel speaks as whoever makes it, until changed
            language.initial = get_language()
        if self.instance.pk:  # a stored target is a secret: typed again to change, never shown
            self.fields["target"].required = False
            target = self.fields["target"]
            target.help_text = (
                _("Now {target}; blank keeps it.").format(target=self.instance.masked_target)
                + " "
                + str(target.help_text)
            )

    def clean(self):
        cleaned = defaulted(
            super().clean() or {}, Channel, "give_up_after_hours", "group_seconds", "language"
        )
        kind, target = cleaned.get("kind"), (cleaned.get("target") or "").strip()
        if not target and self.instance.pk:
            return cleaned
        if kind and (why := target_error(kind, target)):
            self.add_error("target", why)
        return cleaned

    def save(self, commit=True):
        if target := (self.cleaned_data.get("target") or "").strip():
            self.instance.target = target
        return super().save(commit)


class RuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = [
            "team",
            "name",
            "kind",
            "enabled",
            "backend",
            "definition_id",
            "product",
            "owner",
            "name_pattern",
            "after_failures",
            "stuck_factor",
            "silent_minutes",
            "grace_minutes",
            "deadline",
            "deadline_zone",
            "calendar",
            "repeat_minutes",
            "channels",
        ]
        widgets = {"channels": forms.CheckboxSelectMultiple}
        labels = {
            "team": _("Team"),
            "name": _("Name"),
            "kind": _("Kind"),
            "enabled": _("Enabled"),
            "backend": _("Backend"),
            "definition_id": _("Definition"),
            "product": _("Data product"),
            "owner": _("Owner"),
            "name_pattern": _("Name pattern"),
            "after_failures": _("After failures"),
            "stuck_factor": _("Stuck factor"),
            "silent_minutes": _("Silent for (minutes)"),
            "grace_minutes": _("Grace (minutes)"),
            "deadline": _("Deadline"),
            "deadline_zone": _("Deadline's time zone"),
            "calendar": _("Calendar"),
            "repeat_minutes": _("Repeat every (minutes)"),
            "channels": _("Channels"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = operated_teams(user)
        choose_team(self, teams)
        backends = Backend.objects.visible_to(user).order_by("name")
        choose(self, "backend", backends)
        choose(self, "product", DataProduct.objects.filter(team__in=teams).order_by("name"))
        channels = Channel.objects.filter(team__in=teams).order_by("name")
        choose(self, "channels", channels)
        if not channels.exists():
            self.fields["channels"].help_text = format_html(
                gettext('No channel yet: <a href="{}">add one</a> first, then choose it here.'),
                reverse("alert_channel_new"),
            )
        self.fields["definition_id"].widget.attrs["list"] = "definitions"
        self.definitions = recent_definitions(backends)
        for name, kinds in KIND_FIELDS.items():  # runboard.js shows a field for its kinds only
            self.fields[name].widget.attrs["data-kinds"] = " ".join(kinds)

    def clean(self):
        cleaned = defaulted(super().clean() or {}, AlertRule, "repeat_minutes")
        team = cleaned.get("team")
        if team and any(c.team_id != team.pk for c in cleaned.get("channels") or []):
            self.add_error("channels", _("Choose channels of the rule's own team."))
        backend = cleaned.get("backend")
        if team and backend and backend.team_id != team.pk:
            self.add_error("backend", _("Choose one of the team's own backends."))
        product = cleaned.get("product")
        if team and product and product.team_id != team.pk:
            self.add_error("product", _("Choose one of the team's own data products."))
        return cleaned


def choose_team(form: forms.ModelForm, teams) -> None:
    """Only the user's teams; the one, already chosen, when there is only one."""
    choose(form, "team", teams)
    if not form.instance.pk and len(only := list(teams[:2])) == 1:
        form.fields["team"].initial = only[0].pk


def recent_definitions(backends) -> list[str]:
    """Definition ids that ran on these backends within five weeks, from the rollups."""
    since = timezone.now() - timedelta(days=35)
    return list(
        Rollup.objects.filter(backend__in=backends, top_level=True, hour__gte=since)
        .exclude(definition_id="")
        .values_list("definition_id", flat=True)
        .distinct()
        .order_by("definition_id")[:DEFINITIONS_OFFERED]
    )


def defaulted(cleaned: dict, model, *names: str) -> dict:
    """Numbers left out of a form take the model's default."""
    for name in names:
        if cleaned.get(name) in (None, ""):
            cleaned[name] = model._meta.get_field(name).default
    return cleaned


def choose(form: forms.ModelForm, name: str, queryset) -> None:
    """Limit a model choice field to what this user may pick."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset

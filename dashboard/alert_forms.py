"""Team operators edit their team's channels and rules here; a form only offers what the user
may choose (their teams, the backends they see, their team's channels)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import Group

from instances.alerts.channels import target_error
from instances.alerts.models import AlertRule, Channel
from instances.models import Backend


def operated_teams(user):
    """Teams the user may edit alerting for: any when superuser, else staff of their teams."""
    if user.is_superuser:
        return Group.objects.all()
    return user.groups.all() if user.is_staff else Group.objects.none()


def can_operate(user, team_id: int) -> bool:
    return operated_teams(user).filter(pk=team_id).exists()


class ChannelForm(forms.ModelForm):
    target = forms.CharField(
        max_length=1000,
        help_text="Webhook: its URL. Email: addresses, comma-separated. Slack, WeCom, Feishu, "
        "DingTalk: the bot's webhook URL; Teams (and others): an Apprise URL.",
    )

    class Meta:
        model = Channel
        fields = [
            "team",
            "name",
            "kind",
            "target",
            "max_per_minute",
            "group_seconds",
            "give_up_after_hours",
            "give_up_after_attempts",
            "enabled",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choose(self, "team", operated_teams(user))
        if self.instance.pk:  # a stored target is a secret: typed again to change, never shown
            self.fields["target"].required = False
            target = self.fields["target"]
            target.help_text = f"Now {self.instance.masked_target}; blank keeps it. " + str(
                target.help_text
            )

    def clean(self):
        cleaned = defaulted(super().clean() or {}, Channel, "give_up_after_hours", "group_seconds")
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
            "owner",
            "name_pattern",
            "after_failures",
            "stuck_factor",
            "silent_minutes",
            "grace_minutes",
            "repeat_minutes",
            "channels",
        ]
        widgets = {"channels": forms.CheckboxSelectMultiple}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = operated_teams(user)
        choose(self, "team", teams)
        choose(self, "backend", Backend.objects.visible_to(user).order_by("name"))
        choose(self, "channels", Channel.objects.filter(team__in=teams).order_by("name"))

    def clean(self):
        cleaned = defaulted(super().clean() or {}, AlertRule, "repeat_minutes")
        team = cleaned.get("team")
        if team and any(c.team_id != team.pk for c in cleaned.get("channels") or []):
            self.add_error("channels", "Choose channels of the rule's own team.")
        backend = cleaned.get("backend")
        if team and backend and backend.team_id != team.pk:
            self.add_error("backend", "Choose one of the team's own backends.")
        return cleaned


def defaulted(cleaned: dict, model, *names: str) -> dict:
    """Numbers left out of a form take the model's default."""
    for name in names:
        if cleaned.get(name) is None:
            cleaned[name] = model._meta.get_field(name).default
    return cleaned


def choose(form: forms.ModelForm, name: str, queryset) -> None:
    """Limit a model choice field to what this user may pick."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset

"""The admin, scoped by team exactly like the pages: staff see their teams' rows only."""

import json

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group

from . import crypto
from .acting.models import Action
from .models import ApiToken, Backend, Edge, Instance, Poll, StatusChange, team_scope
from .people import roles
from .people.models import Role


class TeamScopedAdmin(admin.ModelAdmin):
    team_path: str  # from the model to the team that owns its backend

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        scope = team_scope(request.user, self.team_path)
        return rows if scope is None else rows.filter(scope)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Choices never list another team's backends or the teams one is not in."""
        if db_field.related_model is Backend:
            kwargs["queryset"] = Backend.objects.visible_to(request.user)
        elif db_field.related_model is Group:
            kwargs["queryset"] = roles.teams_where(request.user, Role.ADMIN)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class VisibleBackendFilter(admin.RelatedFieldListFilter):
    """The backend filter lists only backends the user may see."""

    def field_choices(self, field, request, model_admin):
        return [(b.pk, str(b)) for b in Backend.objects.visible_to(request.user).order_by("name")]


class OwnTeamFilter(admin.RelatedFieldListFilter):
    def field_choices(self, field, request, model_admin):
        teams = roles.teams_where(request.user, Role.VIEWER)
        return [(team.pk, str(team)) for team in teams.order_by("name")]


class BackendForm(forms.ModelForm):
    new_credentials = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text='JSON, e.g. {"app_key": "…", "app_secret": "…"}. Leave empty to keep the '
        "stored credentials; they are never shown back.",
    )
    new_acting_credentials = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text="A more privileged credential for actions (retry, stop…), same shape. Empty "
        "keeps the stored one; {} removes it (actions then use the polls' credential).",
    )

    class Meta:
        model = Backend
        fields = (
            "name",
            "kind",
            "base_url",
            "scope",
            "timezone",
            "poll_interval",
            "enabled",
            "team",
            "may_act",
        )

    def save(self, commit=True):
        if self.cleaned_data.get("new_credentials"):
            self.instance.credentials = self.cleaned_data["new_credentials"]
        if (acting := self.cleaned_data.get("new_acting_credentials")) is not None:
            self.instance.acting_credentials = acting
        return super().save(commit)


@admin.register(Backend)
class BackendAdmin(TeamScopedAdmin):
    team_path = "team"
    form = BackendForm
    list_display = (
        "name",
        "kind",
        "team",
        "enabled",
        "poll_interval",
        "last_success_at",
        "consecutive_failures",
    )
    list_filter = ("kind", "enabled", ("team", OwnTeamFilter))
    search_fields = ("name", "base_url")
    readonly_fields = (
        "credentials_masked",
        "acting_credentials_masked",
        "last_poll_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "consecutive_failures",
        "last_latency_ms",
        "watermark",
        "next_poll_at",
        "claimed_until",
    )

    @admin.display(description="credentials")
    def credentials_masked(self, obj: Backend) -> str:
        return json.dumps(obj.masked_credentials, ensure_ascii=False) if obj.pk else "—"

    @admin.display(description="acting credentials")
    def acting_credentials_masked(self, obj: Backend) -> str:
        masked = {k: crypto.mask(str(v)) for k, v in obj.acting_credentials.items()}
        return json.dumps(masked, ensure_ascii=False) if masked else "— (the polls' credential)"


@admin.register(Instance)
class InstanceAdmin(TeamScopedAdmin):
    team_path = "backend__team"
    list_display = ("name", "kind", "status", "vendor_status", "backend", "run_at", "duration")
    list_filter = ("status", "kind", ("backend", VisibleBackendFilter))
    search_fields = ("name", "external_id", "definition_name")
    raw_id_fields = ("parent",)
    list_select_related = ("backend",)
    show_full_result_count = False  # no count(*) over millions of rows


@admin.register(StatusChange)
class StatusChangeAdmin(TeamScopedAdmin):
    team_path = "instance__backend__team"
    list_display = ("instance", "from_status", "to_status", "observed_at")
    list_filter = ("to_status",)
    raw_id_fields = ("instance",)
    show_full_result_count = False


@admin.register(Poll)
class PollAdmin(TeamScopedAdmin):
    team_path = "backend__team"
    list_display = ("backend", "started_at", "outcome", "fetched", "changed", "latency_ms")
    list_filter = ("outcome", ("backend", VisibleBackendFilter))


@admin.register(Edge)
class EdgeAdmin(TeamScopedAdmin):
    team_path = "parent__backend__team"
    raw_id_fields = ("parent", "upstream", "downstream")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """A token acts as its user: staff see their own, superusers everyone's."""

    list_display = ("name", "user", "created", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("key_hash", "last_used_at")

    def get_queryset(self, request):
        tokens = super().get_queryset(request)
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)


@admin.register(Action)
class ActionAdmin(TeamScopedAdmin):
    """The audit log of actions on vendors, read only: nobody adds, changes or deletes one."""

    team_path = "team"
    list_display = ("requested_at", "person_name", "move", "run_external_id", "state")
    list_filter = ("state", "move")
    search_fields = ("run_external_id", "person_name", "reason")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

import json

from django import forms
from django.contrib import admin

from .models import ApiToken, Backend, Edge, Instance, Poll, StatusChange


class BackendForm(forms.ModelForm):
    new_credentials = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text='JSON, e.g. {"app_key": "…", "app_secret": "…"}. Leave empty to keep the '
        "stored credentials; they are never shown back.",
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
        )

    def save(self, commit=True):
        if self.cleaned_data.get("new_credentials"):
            self.instance.credentials = self.cleaned_data["new_credentials"]
        return super().save(commit)


@admin.register(Backend)
class BackendAdmin(admin.ModelAdmin):
    form = BackendForm
    list_display = (
        "name", "kind", "team", "enabled", "poll_interval", "last_success_at",
        "consecutive_failures",
    )  # fmt: skip
    list_filter = ("kind", "enabled", "team")
    search_fields = ("name", "base_url")
    readonly_fields = (
        "credentials_masked", "last_poll_at", "last_success_at", "last_error", "last_error_at",
        "consecutive_failures", "last_latency_ms", "watermark", "next_poll_at", "claimed_until",
    )  # fmt: skip

    @admin.display(description="credentials")
    def credentials_masked(self, obj: Backend) -> str:
        return json.dumps(obj.masked_credentials, ensure_ascii=False) if obj.pk else "—"


@admin.register(Instance)
class InstanceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "status", "vendor_status", "backend", "run_at", "duration")
    list_filter = ("status", "kind", "backend")
    search_fields = ("name", "external_id", "definition_name")
    raw_id_fields = ("parent",)
    list_select_related = ("backend",)
    show_full_result_count = False  # no count(*) over millions of rows


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ("instance", "from_status", "to_status", "observed_at")
    list_filter = ("to_status",)
    raw_id_fields = ("instance",)
    show_full_result_count = False


@admin.register(Poll)
class PollAdmin(admin.ModelAdmin):
    list_display = ("backend", "started_at", "outcome", "fetched", "changed", "latency_ms")
    list_filter = ("outcome", "backend")


admin.site.register(Edge, raw_id_fields=("parent", "upstream", "downstream"))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "created")
    readonly_fields = ("key_hash",)

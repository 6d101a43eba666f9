"""The Alerts pages: alerts by state, one alert's history and deliveries (acknowledge and
silence from there), and a team's channels (with their delivery log) and rules."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.alert_forms import ChannelForm, RuleForm, can_operate, operated_teams
from instances.alerts import reminders, silences
from instances.alerts.models import Alert, AlertEvent, AlertRule, Channel

SHOWN = 100
DELIVERY_LOG = 20  # a channel's latest deliveries shown
STATES = {  # tab → (label, alerts in it)
    "attention": (gettext_lazy("Needs attention"), lambda alerts, now: alerts.needing_attention()),
    "acknowledged": (
        gettext_lazy("Acknowledged"),
        lambda alerts, now: alerts.filter(state=Alert.State.FIRING, acknowledged_at__isnull=False),
    ),
    "silenced": (
        gettext_lazy("Silenced"),
        lambda alerts, now: alerts.filter(state=Alert.State.FIRING, silenced_until__gt=now),
    ),
    "resolved": (
        gettext_lazy("Resolved"),
        lambda alerts, now: alerts.filter(state=Alert.State.RESOLVED),
    ),
}
SILENCES = {  # key → (how long, as the form says it)
    "1h": (timedelta(hours=1), gettext_lazy("1 hour")),
    "4h": (timedelta(hours=4), gettext_lazy("4 hours")),
    "24h": (timedelta(days=1), gettext_lazy("24 hours")),
    "7d": (timedelta(days=7), gettext_lazy("7 days")),
}


def alert_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("state", "attention")
    if tab not in STATES:
        tab = "attention"
    now = timezone.now()
    visible = Alert.objects.visible_to(request.user)
    tabs = [(key, label, pick(visible, now).count()) for key, (label, pick) in STATES.items()]
    alerts = (
        STATES[tab][1](visible, now)
        .select_related("rule", "backend", "run", "acknowledged_by")
        .defer("run__raw")
        .order_by("-updated_at")[:SHOWN]
    )
    return render(
        request, "dashboard/alerts.html", {"alerts": alerts, "tabs": tabs, "tab": tab, "now": now}
    )


def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(
        Alert.objects.visible_to(request.user).select_related(
            "rule", "backend", "run", "acknowledged_by", "silenced_by"
        ),
        pk=pk,
    )
    return render(
        request,
        "dashboard/alert_detail.html",
        {
            "alert": alert,
            "now": timezone.now(),
            "silences": [(key, label) for key, (_length, label) in SILENCES.items()],
            "scopes": silences.scopes_for(alert),
            "events": alert.events.select_related("by"),
            "deliveries": alert.deliveries.select_related("channel").order_by("created_at", "id"),
            "operator": can_operate(request.user, alert.rule.team_id),
        },
    )


@require_POST
def alert_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge, silence (for a while, over a chosen scope, with a reason) or lift a
    silence; an alert that opened in the silence and still fires is told when it is lifted."""
    alert = get_object_or_404(Alert.objects.visible_to(request.user).select_related("rule"), pk=pk)
    if not can_operate(request.user, alert.rule.team_id):
        raise Http404
    now, action = timezone.now(), request.POST.get("action")
    scope = request.POST.get("scope", Alert.SilenceScope.SIGNATURE)
    with transaction.atomic():
        if action == "acknowledge" and alert.acknowledged_at is None:
            alert.acknowledged_by_id, alert.acknowledged_at = request.user.pk, now
            alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
            AlertEvent.objects.create(
                alert=alert, at=now, what=AlertEvent.What.ACKNOWLEDGED, by_id=request.user.pk
            )
        elif action == "silence" and request.POST.get("for") in SILENCES:
            reason = request.POST.get("reason", "").strip()[:300]
            if not reason:
                messages.error(
                    request, _("Say why it is silenced: the next person on call will ask.")
                )
            elif scope not in dict(silences.scopes_for(alert)):
                messages.error(request, _("Choose what to silence from the list."))
            else:
                until = now + SILENCES[request.POST["for"]][0]
                count = silences.silence(alert, scope, until, request.user, reason, now)
                if count > 1:
                    messages.success(
                        request,
                        ngettext(
                            "Silenced {count} alert firing now, this one too.",
                            "Silenced {count} alerts firing now, this one too.",
                            count,
                        ).format(count=count),
                    )
        elif action == "unsilence" and alert.is_silenced(now):
            reminders.tell_unsilenced(silences.lift(alert, request.user, now), now)
    return redirect("alert_detail", pk=alert.pk)


def channels(request: HttpRequest) -> HttpResponse:
    """The user's teams' channels, each with its latest deliveries, and the rules."""
    mine = Channel.objects.visible_to(request.user)
    failing = set(mine.failing().values_list("pk", flat=True))
    # a team has a few channels; each shows its latest deliveries
    mine = mine.select_related("team").order_by("team__name", "name")
    listed = [
        (
            channel,
            channel.pk in failing,
            channel.deliveries.select_related("alert__rule", "alert__backend", "alert__run")
            .defer("alert__run__raw")
            .order_by("-created_at", "-id")[:DELIVERY_LOG],
        )
        for channel in mine
    ]
    rules = (
        AlertRule.objects.visible_to(request.user)
        .select_related("team", "backend")
        .prefetch_related("channels")
        .order_by("team__name", "name")
    )
    return render(
        request,
        "dashboard/alert_channels.html",
        {
            "channels": listed,
            "rules": rules,
            "operator": operated_teams(request.user).exists(),
        },
    )


def edit_view(model, form_class, title, new_title):
    """Create (pk None) or edit one of the user's teams' channels or rules."""

    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
        teams = operated_teams(request.user)
        if not teams.exists():
            raise Http404
        instance = get_object_or_404(model, pk=pk, team__in=teams) if pk else None
        form = form_class(request.POST or None, instance=instance, user=request.user)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, _("{name} saved.").format(name=form.instance.name))
            return redirect("alert_channels")
        return render(
            request,
            "dashboard/alert_form.html",
            {"form": form, "title": title, "new_title": new_title, "instance": instance},
        )

    return view


edit_channel = edit_view(Channel, ChannelForm, gettext_lazy("Channel"), gettext_lazy("New channel"))
edit_rule = edit_view(AlertRule, RuleForm, gettext_lazy("Rule"), gettext_lazy("New rule"))

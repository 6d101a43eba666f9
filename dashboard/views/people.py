"""Teams and people in Runboard's own pages: a team's members and roles, managed by its team
admins (a superuser manages every team and makes new ones); invitations by email; a
person's page with their teams and API tokens."""

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from instances.models import ApiToken, Backend, ProductPart
from instances.people import invitations, roles
from instances.people.models import ClosedDay, Membership, MembershipChange, Role

CHANGES_SHOWN = 50
log = logging.getLogger(__name__)


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class ClosedDayForm(forms.Form):
    day = forms.DateField()
    note = forms.CharField(max_length=200, required=False)


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    days = forms.TypedChoiceField(
        label=_("Expires after"),
        choices=[(days, format_lazy(_("{days} days"), days=days)) for days in ApiToken.EXPIRY_DAYS],
        coerce=int,
        initial=90,
    )


def team_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.user.is_superuser:
        name = " ".join(request.POST.get("name", "").split())[:150]
        if name:
            team = Group.objects.get_or_create(name=name)[0]
            return redirect("team", pk=team.pk)
    teams = roles.teams_where(request.user, Role.VIEWER).order_by("name")
    held = dict(Membership.objects.filter(user=request.user.pk).values_list("team_id", "role"))
    sizes = dict(
        Membership.objects.filter(team__in=teams).values_list("team").annotate(n=Count("pk"))
    )
    rows = [
        (team, Role(held[team.pk]).label if team.pk in held else None, sizes.get(team.pk, 0))
        for team in teams
    ]
    return render(request, "dashboard/teams.html", {"rows": rows})


def team(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(roles.teams_where(request.user, Role.VIEWER), pk=pk)
    manages = roles.may(request.user, Role.ADMIN, team.pk)
    members = team.memberships.select_related("user").order_by("user__username")
    return render(
        request,
        "dashboard/team.html",
        {
            "team": team,
            "manages": manages,
            "members": members,
            "roles": Role.choices,
            "invite": InviteForm(),
            "open_invitations": team.invitations.filter(
                accepted_at=None, expires_at__gt=timezone.now()
            ).order_by("email")
            if manages
            else (),
            "closed_days": team.closed_days.filter(day__gte=timezone.localdate()).order_by("day"),
            "operates": roles.may(request.user, Role.OPERATOR, team.pk),
            "products": team.data_products.prefetch_related(
                Prefetch("parts", ProductPart.objects.select_related("backend").order_by("pk"))
            ).order_by("name"),
            "backends": Backend.objects.filter(team=team).order_by("name"),
            "changes": MembershipChange.objects.filter(team=team)
            .select_related("by", "person")
            .order_by("-at")[:CHANGES_SHOWN],
        },
    )


@require_POST
def manage_team(request: HttpRequest, pk: int) -> HttpResponse:
    """A team admin's change: a member's role, a member out, an invitation in or withdrawn,
    a day closed or open again."""
    team = get_object_or_404(roles.teams_where(request.user, Role.ADMIN), pk=pk)
    action = request.POST.get("action")
    if action == "invite":
        form = InviteForm(request.POST)
        if form.is_valid():
            email, role = form.cleaned_data["email"], form.cleaned_data["role"]
            try:
                invitations.invite(
                    team,
                    email,
                    role,
                    request.user,
                    lambda key: request.build_absolute_uri(reverse("invitation", args=[key])),
                )
            except invitations.MailNotSent as exc:
                log.error("Invitation of %s to team %s not mailed: %s", email, team.pk, exc)
                messages.error(
                    request,
                    gettext("The invitation could not be mailed ({error}): try again.").format(
                        error=exc
                    ),
                )
            else:
                messages.success(
                    request,
                    gettext("Invited {email} as {role}.").format(
                        email=email, role=Role(role).label.lower()
                    ),
                )
        else:
            messages.error(request, gettext("Give the address to invite, and a role."))
    elif action == "close":
        closing = ClosedDayForm(request.POST)
        if closing.is_valid():
            ClosedDay.objects.update_or_create(
                team=team,
                day=closing.cleaned_data["day"],
                defaults={"note": closing.cleaned_data["note"]},
            )
        else:
            messages.error(request, gettext("Give the day to close, as a date."))
    elif action == "reopen":
        team.closed_days.filter(pk=request.POST.get("closed_day") or 0).delete()
    elif action == "withdraw":
        team.invitations.filter(pk=request.POST.get("invitation") or 0, accepted_at=None).delete()
    elif action in ("role", "remove"):
        held = get_object_or_404(team.memberships, user_id=request.POST.get("person"))
        role = request.POST.get("role") if action == "role" else None
        if role is not None and role not in Role.values:
            messages.error(request, gettext("Choose a role from the list."))
        elif held.role == Role.ADMIN and role != Role.ADMIN and last_admin(team):
            messages.error(
                request, gettext("A team keeps at least one team admin: make another first.")
            )
        else:
            roles.place(held.user, team, role, by=request.user)
    return redirect("team", pk=team.pk)


def last_admin(team: Group) -> bool:
    return team.memberships.filter(role=Role.ADMIN).count() <= 1


@login_not_required
def invitation(request: HttpRequest, key: str) -> HttpResponse:
    """Accepting an invitation: a signed-in person with its address joins; someone without
    an account here chooses a password (when password login is on) and joins."""
    invited = invitations.open_invitation(key)
    if invited is None:
        return render(request, "dashboard/invitation.html", {"invited": None}, status=404)
    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invited.email.lower():
            messages.error(
                request, gettext("This invitation is for {email}.").format(email=invited.email)
            )
        elif request.method == "POST":
            invitations.accept(invited, user)
            return redirect("team", pk=invited.team_id)
        return render(request, "dashboard/invitation.html", {"invited": invited})
    People = get_user_model()
    if People.objects.filter(email__iexact=invited.email).exists():
        return redirect(f"{reverse('login')}?next={request.path}")
    account = None
    if settings.RUNBOARD_PASSWORD_LOGIN:
        newcomer = People(username=invited.email, email=invited.email)
        account = SetPasswordForm(newcomer, request.POST or None)
        if request.method == "POST" and account.is_valid():
            with transaction.atomic():
                newcomer = account.save()
                invitations.accept(invited, newcomer)
            login(request, newcomer, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("team", pk=invited.team_id)
    return render(request, "dashboard/invitation.html", {"invited": invited, "account": account})


def person(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's teams and API tokens: seen by them, a superuser, or an admin of one of
    their teams (who may revoke their tokens; only they make new ones)."""
    someone = get_object_or_404(get_user_model(), pk=pk)
    shared = Membership.objects.filter(
        user=someone, team__in=roles.teams_where(request.user, Role.ADMIN)
    )
    oneself = someone.pk == request.user.pk
    if not (oneself or request.user.is_superuser or shared.exists()):
        raise Http404
    new_key, form = None, TokenForm()
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            someone.api_tokens.filter(pk=request.POST.get("token") or 0, revoked_at=None).update(
                revoked_at=timezone.now()
            )
            return redirect("person", pk=someone.pk)
        form = TokenForm(request.POST)
        if oneself and form.is_valid():
            new_key = ApiToken.issue(someone, form.cleaned_data["name"], form.cleaned_data["days"])
            form = TokenForm()
    return render(
        request,
        "dashboard/person.html",
        {
            "someone": someone,
            "oneself": oneself,
            "memberships": someone.memberships.select_related("team").order_by("team__name"),
            "tokens": someone.api_tokens.order_by("-created"),
            "form": form,
            "new_key": new_key,
        },
    )

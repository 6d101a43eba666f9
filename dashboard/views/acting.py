"""Acting from Runboard: a move's preview and confirmation (GET shows it, POST sends it), and a
team's audit log of actions, as a page and as CSV."""

import csv
import secrets

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from dashboard.views.exports import inert
from dashboard.views.runs import visible_run
from instances.acting import perform
from instances.acting.models import Action
from instances.acting.offers import offers, root_of
from instances.connectors.base import ConnectorError
from instances.people import roles
from instances.people.models import Role

AUDIT_SHOWN = 200
CSV_FIELDS = (
    "requested_at",
    "person_name",
    "role",
    "team_name",
    "backend_name",
    "run_external_id",
    "step_external_id",
    "move",
    "reason",
    "credential",
    "method",
    "url",
    "body",
    "before",
    "preview",
    "state",
    "vendor_status",
    "vendor_message",
    "vendor_answer",
    "request_id",
    "new_run_id",
    "answered_at",
    "ended_at",
    "outcome",
)


@require_http_methods(["GET", "POST"])
def act(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    """GET: what the move will do and the form to confirm it; POST: send it. Someone else's
    run is not found; a viewer's (or a forged) POST is refused and audited."""
    run = visible_run(request, pk)
    if request.method == "POST":
        try:
            perform.request(
                request.user,
                run,
                move,
                request.POST.get("reason", "")[:2000],
                request.POST.get("key", "") or secrets.token_hex(16),
                request.POST.get("typed", ""),
            )
        except perform.Refused as refused:
            return render(
                request,
                "dashboard/act_refused.html",
                {"run": run, "why": str(refused)},
                status=refused.status,
            )
        return redirect(reverse("run_detail", args=[root_of(run).pk]) + "#actions")
    offer = next((o for o in offers(request.user, run) if o.name == move), None)
    if offer is None:
        raise Http404("No such action here.")
    team = run.backend.team_id or 0
    try:
        preview = perform.preview(run, offer.move) if not offer.why_not else None
    except ConnectorError as exc:  # the request itself could not be made (which Airflow?)
        why = f"{run.backend.name} could not be reached to prepare it: {exc}"
        return render(request, "dashboard/act_refused.html", {"run": run, "why": why}, status=502)
    context = {
        "run": run,
        "root": root_of(run),
        "offer": offer,
        "preview": preview,
        "key": secrets.token_hex(16),
        "must_type": offer.move.careful and not roles.may(request.user, Role.ADMIN, team),
    }
    return render(request, "dashboard/act.html", context)


def team_actions(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(roles.teams_where(request.user, Role.VIEWER), pk=pk)
    actions = Action.objects.filter(team=team).order_by("-requested_at")
    if request.GET.get("format") == "csv":
        return actions_csv(team.name, actions)
    return render(
        request,
        "dashboard/team_actions.html",
        {"team": team, "actions": actions[:AUDIT_SHOWN], "shown": AUDIT_SHOWN},
    )


def actions_csv(team_name: str, actions) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"actions-{team_name}.csv")
    response.write("\ufeff")  # or Excel reads UTF-8 (Chinese names) as a local code page
    writer = csv.writer(response)
    writer.writerow(CSV_FIELDS)
    for action in actions.iterator(chunk_size=1000):
        writer.writerow([inert(getattr(action, field)) for field in CSV_FIELDS])
    return response

"""The timeline across every platform: top-level runs of the reader's backends over a window
(the last 24 h unless asked), by backend, team or data product, with zoom and pan as plain
links (phones and keyboards included)."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard import fleet
from dashboard.filters import exact_window
from dashboard.scope import ReadScope
from instances.models import Backend

SPANS = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(hours=24)}
SPANS["7d"] = timedelta(days=7)
SHORTEST, LONGEST = timedelta(minutes=15), timedelta(days=31)


@require_GET
def timeline(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    asked = exact_window(request.GET.get("since", ""), request.GET.get("until", ""))
    if asked:
        start, end = asked[0], asked[1] or now
    else:
        start, end = now - SPANS.get(request.GET.get("window", ""), SPANS["24h"]), now
    span = min(max(end - start, SHORTEST), LONGEST)
    start = end - span
    by = request.GET.get("by", "")
    by = by if by in fleet.GROUPINGS else "backend"
    backends = list(ReadScope.of(request.user, request.GET).backends().select_related("team"))
    kept = {key: request.GET[key] for key in ("by", "team", "backend") if request.GET.get(key)}
    middle = start + span / 2

    def window(begin, finish) -> str:
        return "?" + urlencode({**kept, "since": begin.isoformat(), "until": finish.isoformat()})

    visible = Backend.objects.visible_to(request.user)
    return render(
        request,
        "dashboard/timeline.html",
        {
            "fleet": fleet.of(backends, start, end, by),
            "by": by,
            "spans": [(name, "?" + urlencode({**kept, "window": name})) for name in SPANS],
            "earlier": window(start - span / 2, end - span / 2),
            "later": window(start + span / 2, end + span / 2),
            "zoom_in": window(middle - span / 4, middle + span / 4),
            "zoom_out": window(middle - span, middle + span),
            "teams": Group.objects.filter(pk__in=visible.values("team")).order_by("name"),
            "chosen_team": request.GET.get("team", ""),
        },
    )

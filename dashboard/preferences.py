"""Per-user display preferences kept in cookies: time zone (the browser's by default), theme
(light, dark or the system's) and language (Django's cookie, which LocaleMiddleware reads;
the browser's Accept-Language until one is chosen)."""

import zoneinfo
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from instances import zones

THEMES = {"system": _("system theme"), "light": _("light"), "dark": _("dark")}
ZONES = (
    "UTC",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
)
YEAR = 365 * 24 * 3600


def valid_zone(name: str) -> str | None:
    return name if name in zones.known() else None


class ReaderRequest(HttpRequest):
    """A request as the middlewares leave it: htmx's details, the reader's zone and theme."""

    htmx: HtmxDetails
    display_zone: str
    theme: str


class PreferencesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: ReaderRequest) -> HttpResponse:
        # the browser's default zone arrives URL-encoded (Europe%2FBerlin), a chosen one not
        zone = valid_zone(unquote(request.COOKIES.get("tz", "")))
        request.display_zone = zone or "UTC"
        timezone.activate(zoneinfo.ZoneInfo(request.display_zone))
        theme = request.COOKIES.get("theme", "system")
        request.theme = theme if theme in THEMES else "system"
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


@require_POST
def save(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)
    if zone := valid_zone(request.POST.get("tz", "")):
        response.set_cookie("tz", zone, max_age=YEAR, samesite="Lax")
    if request.POST.get("theme") in THEMES:
        response.set_cookie("theme", request.POST["theme"], max_age=YEAR, samesite="Lax")
    if request.POST.get("language") in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            request.POST["language"],
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
        )
    return response


def context(request: ReaderRequest) -> dict:
    zones = ZONES if request.display_zone in ZONES else (request.display_zone, *ZONES)
    return {
        "zones": zones,
        "themes": THEMES.items(),
        "languages": settings.LANGUAGES,
        "script_words": script_words(),
    }


def script_words() -> dict[str, str]:
    """What static/js/runboard.js writes, in the reader's language; {n} stands for a number."""
    return {
        "pause": gettext("Pause"),
        "resume": gettext("Resume"),
        "updated": gettext("Updated {n} s ago"),
        "paused": gettext("Paused; updated {n} s ago"),
        "any": gettext("any"),
        "line": gettext("{n} line"),
        "lines": gettext("{n} lines"),
        "found": gettext("{n} found"),
        "minimap": gettext("the whole graph: click to go there"),
    }

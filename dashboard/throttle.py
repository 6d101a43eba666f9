"""How many failed logins lock what (django-axes calls failure_limit). One username from one
address is locked after RUNBOARD_LOGIN_FAILURES: guessing bob's password locks bob there, not
bob everywhere and not alice in the same office, and alice logging in resets only her own
count. An address is locked for everyone only after the far higher
RUNBOARD_LOGIN_ADDRESS_FAILURES, summed over every username tried from it (spraying one
password over many accounts)."""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def failure_limit(request: HttpRequest, credentials: dict | None) -> int:
    if address_failures(request) >= settings.RUNBOARD_LOGIN_ADDRESS_FAILURES:
        return 0  # locked, whoever tries
    return settings.RUNBOARD_LOGIN_FAILURES


def address_failures(request: HttpRequest) -> int:
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    recent = AccessAttempt.objects.filter(
        ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
    )
    return recent.aggregate(n=Sum("failures_since_start"))["n"] or 0

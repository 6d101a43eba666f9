"""/healthz: is this instance able to serve (database, broker) and is data flowing; and the
page every other request gets while the database is unreachable."""

import sys

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.celery import app as celery_app
from instances.alerts import checks
from instances.models import Backend


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any failure means "not healthy"
        return False


def broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def cache_ok() -> bool:
    """Reported, not required: pages draw without the cache, only slower."""
    try:
        cache.set("healthz", 1, 10)
        return cache.get("healthz") == 1
    except Exception:
        return False


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = database_ok(), broker_ok()
    newest = (
        Backend.objects.aggregate(newest=Max("last_success_at"))["newest"] if database else None
    )
    age = (timezone.now() - newest).total_seconds() if newest else None
    backends = list(Backend.objects.filter(enabled=True)) if database else []
    body = {
        "database": database,
        "broker": broker,
        "cache": cache_ok(),
        "newest_successful_poll_age_s": age,
        # whether Runboard polls at all (some poll ended lately), as its alert says
        "polling": checks.polling(backends, timezone.now()) if backends else None,
    }
    return JsonResponse(body, status=200 if database and broker else 503)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler: a database that does not answer is a 503 with a page that says
    so (rendered without a query), anything else the usual 500."""
    if isinstance(sys.exc_info()[1], DatabaseError) and not database_ok():
        return HttpResponse(render_to_string("503.html"), status=503)
    return HttpResponseServerError(render_to_string("500.html"))

"""POST /api/v1/lineage: OpenLineage's HTTP intake, as Marquez takes it (one run event, or a
JSON array of them), into the push backend whose bearer token it carries. Its answers say
why: 401 (no such token), 403 (another namespace), 413 (too big), 429 (too often), 400 (not
JSON, or not OpenLineage); nothing is kept from a refused request."""

import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from instances.lineage import receive

log = logging.getLogger(__name__)


def refused(status: int, detail: str, backend_id: int | None = None) -> JsonResponse:
    log.warning("lineage intake refused (%s, backend %s): %s", status, backend_id, detail[:300])
    return JsonResponse({"detail": detail}, status=status)


@csrf_exempt
@login_not_required
@require_POST
def intake(request: HttpRequest) -> JsonResponse:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    backend = receive.backend_for(token.strip()) if scheme.lower() == "bearer" else None
    if backend is None:
        return refused(401, "a push backend's bearer token is required")
    limit = settings.RUNBOARD_LINEAGE_MAX_BYTES
    if int(request.headers.get("Content-Length") or 0) > limit:
        return refused(413, f"a request carries {limit} bytes at most", backend.pk)
    body = request.read(limit + 1)
    if len(body) > limit:
        return refused(413, f"a request carries {limit} bytes at most", backend.pk)
    if too_often(backend.pk):
        return refused(429, "too many requests for this token; slow down", backend.pk)
    try:
        sent = json.loads(body)
    except ValueError as exc:
        return refused(400, f"the body is not JSON: {exc}", backend.pk)
    try:
        done = receive.accept(backend, sent if isinstance(sent, list) else [sent])
    except receive.Rejected as exc:
        return refused(exc.status, str(exc), backend.pk)
    answer = {"kept": done.kept, "repeated": done.repeated, "runs": done.runs}
    return JsonResponse(answer, status=201)


def too_often(backend_id: int) -> bool:
    """More requests this minute than RUNBOARD_LINEAGE_REQUESTS_PER_MINUTE, for this token."""
    key = f"lineage-requests:{backend_id}"
    cache.add(key, 0, 60)
    try:
        return cache.incr(key) > settings.RUNBOARD_LINEAGE_REQUESTS_PER_MINUTE
    except ValueError:  # expired between the two calls: a new minute
        return False

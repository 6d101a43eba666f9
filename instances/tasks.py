"""Thin Celery tasks: they load by id and call sync. Explicit names keep routes stable."""

import logging

from celery import shared_task
from django.utils import timezone

from . import retention, schedules, scheduling, sync
from .alerts import checks, delivery
from .models import Backend

log = logging.getLogger(__name__)


@shared_task(name="instances.poll_due_backends", ignore_result=True)
def poll_due_backends() -> int:
    """Beat's fan-out: enqueue one poll per backend whose interval has elapsed."""
    due = scheduling.reserve_due_backends(timezone.now())
    for backend_id in due:
        poll_backend.delay(backend_id)
    return len(due)


@shared_task(name="instances.poll_backend", ignore_result=True)
def poll_backend(backend_id: int) -> None:
    sync.poll_backend(backend_id)


@shared_task(name="instances.prune_old_runs", ignore_result=True)
def prune_old_runs() -> int:
    return retention.prune()


@shared_task(name=delivery.DELIVER_TASK, ignore_result=True)
def deliver_alerts() -> int:
    return delivery.deliver_due()


@shared_task(name="instances.learn_schedules", ignore_result=True)
def learn_schedules() -> None:
    """Each backend's definitions' schedules where their vendor gives none: one backend
    failing is logged and the others learn all the same."""
    now = timezone.now()
    for backend in Backend.objects.filter(enabled=True):
        try:
            schedules.learn(backend, now)
        except Exception:
            log.exception("learning the schedules of %s failed", backend.name)


@shared_task(name="instances.check_alerts", ignore_result=True)
def check_alerts() -> None:
    checks.check(timezone.now())

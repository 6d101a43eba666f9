"""Keep the database bounded: runs older than RUNBOARD_RETENTION_DAYS go, in batches.

Children, edges and status changes go with their runs (cascades); hourly rollups stay for
RUNBOARD_ROLLUP_DAYS, so summaries keep the history the raw runs no longer carry."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import Instance, Poll, Rollup, StatusRollup

BATCH = 1000


def prune(days: int | None = None) -> int:
    cutoff = timezone.now() - timedelta(days=days or settings.RUNBOARD_RETENTION_DAYS)
    removed = 0
    while ids := list(
        Instance.objects.roots().filter(run_at__lt=cutoff).values_list("pk", flat=True)[:BATCH]
    ):
        removed += Instance.objects.filter(pk__in=ids).delete()[0]
    Poll.objects.filter(started_at__lt=cutoff).delete()
    kept_from = timezone.now() - timedelta(days=settings.RUNBOARD_ROLLUP_DAYS)
    Rollup.objects.filter(hour__lt=kept_from).delete()
    StatusRollup.objects.filter(hour__lt=kept_from).delete()
    return removed

"""Every OpenLineage event a push backend accepted, kept as sent: a run's state is folded
from all of its events (they are cumulative and arrive in any order), and the same event
twice is one row."""

from django.db import models

from instances.models import Backend


class LineageEvent(models.Model):
    backend = models.ForeignKey(Backend, on_delete=models.CASCADE, related_name="+")
    run_id = models.CharField(max_length=200)  # run.runId
    parent_run_id = models.CharField(max_length=200, blank=True)  # the parent facet's
    event_type = models.CharField(max_length=10, blank=True)
    event_time = models.DateTimeField()
    digest = models.CharField(max_length=64)  # of the event as sent: a repeat is no new row
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["backend", "digest"], name="lineage_event_once"),
        ]
        indexes = [
            models.Index(fields=["backend", "run_id"], name="lineage_event_run_idx"),
            models.Index(fields=["backend", "parent_run_id"], name="lineage_event_parent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.run_id} at {self.event_time:%Y-%m-%d %H:%M:%S}"

"""The one status vocabulary every vendor's runs are normalized into."""

from django.db import models


class Status(models.TextChoices):
    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"
    CANCELED = "CANCELED", "Canceled"
    SKIPPED = "SKIPPED", "Skipped"
    UNKNOWN = "UNKNOWN", "Unknown"

    @property
    def is_terminal(self) -> bool:
        """A terminal run will not change unless someone reruns it."""
        return self in TERMINAL

    @property
    def icon(self) -> str:
        """A shape beside the colour, so status never relies on colour alone."""
        return ICONS[self]


TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.SKIPPED})
ICONS = {
    Status.PENDING: "◷",
    Status.RUNNING: "▶",
    Status.SUCCEEDED: "✔",
    Status.FAILED: "✖",
    Status.CANCELED: "⊘",
    Status.SKIPPED: "↷",
    Status.UNKNOWN: "?",
}


class Kind(models.TextChoices):
    FLOW = "flow", "Flow"
    JOB = "job", "Job"
    TASK = "task", "Task"
    SUBTASK = "subtask", "Subtask"

"""The one status vocabulary every vendor's runs are normalized into."""

from collections.abc import Iterable
from typing import Any

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
# Not finished (yet), in a fixed order: a partial index's predicate must match the query's.
UNFINISHED = sorted(set(Status) - TERMINAL)
ICONS = {
    Status.PENDING: "◷",
    Status.RUNNING: "▶",
    Status.SUCCEEDED: "✔",
    Status.FAILED: "✖",
    Status.CANCELED: "⊘",
    Status.SKIPPED: "↷",
    Status.UNKNOWN: "?",
}


# What makes a run fail, most telling first: a failed step, or when none failed, a canceled
# one (OCP, for one, marks a task FAILED when one of its subtasks was canceled).
CULPRITS = (Status.FAILED, Status.CANCELED)


def culprits(run_status: str, steps: Iterable[Any]) -> list[Any]:
    """The steps on-call should open first, in the order given: the failed ones, else (unless
    the run succeeded all the same) the canceled ones."""
    steps = list(steps)
    failed = [step for step in steps if step.status == Status.FAILED]
    if failed or run_status == Status.SUCCEEDED:
        return failed
    return [step for step in steps if step.status == Status.CANCELED]


class Kind(models.TextChoices):
    FLOW = "flow", "Flow"
    JOB = "job", "Job"
    TASK = "task", "Task"
    SUBTASK = "subtask", "Subtask"

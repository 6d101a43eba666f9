"""The one status vocabulary every vendor's runs are normalized into."""

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    RUNNING = "RUNNING", _("Running")
    SUCCEEDED = "SUCCEEDED", _("Succeeded")
    FAILED = "FAILED", _("Failed")
    CANCELED = "CANCELED", _("Canceled")
    SKIPPED = "SKIPPED", _("Skipped")
    UNKNOWN = "UNKNOWN", _("Unknown")

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


# The one status palette: badges, grid and Gantt (CSS variables, checked against these by
# tests/test_palette.py), charts and the DAG (SVG). White text reads on each light-theme
# colour at 4.5:1 or more; the dark theme's brighter set takes dark text.
COLOURS = {
    Status.PENDING: "#6e7781",
    Status.RUNNING: "#0969da",
    Status.SUCCEEDED: "#1a7f37",
    Status.FAILED: "#cf222e",
    Status.CANCELED: "#9a6700",
    Status.SKIPPED: "#8250df",
    Status.UNKNOWN: "#57606a",
}
DARK_COLOURS = {
    Status.PENDING: "#8d96a0",
    Status.RUNNING: "#4493f8",
    Status.SUCCEEDED: "#3fb950",
    Status.FAILED: "#f85149",
    Status.CANCELED: "#d29922",
    Status.SKIPPED: "#a371f7",
    Status.UNKNOWN: "#8d96a0",
}


def tint(colour: str, white: float) -> str:
    """`colour` mixed with `white` parts of white: a light fill dark text reads on."""
    red, green, blue = (int(colour[n : n + 2], 16) for n in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * white):02x}" for c in (red, green, blue))


# What makes a run fail, most telling first: a failed step, or when none failed, a canceled
# one (OCP, for one, marks a task FAILED when one of its subtasks was canceled).
CULPRITS = (Status.FAILED, Status.CANCELED)
# what a step that never got its chance ends as, when something upstream of it failed
VICTIM_STATUSES = frozenset({Status.FAILED, Status.CANCELED, Status.SKIPPED})


def culprits(
    run_status: str, steps: Iterable[Any], edges: Iterable[tuple[int, int]] = ()
) -> list[Any]:
    """The steps that failed the run on their own, in the order given: the failed ones (else,
    unless the run succeeded all the same, the canceled ones) with no failed step upstream.
    The others failed because of them (victims). Without edges, the earliest failure."""
    steps = list(steps)
    bad = [step for step in steps if step.status == Status.FAILED]
    if not bad and run_status != Status.SUCCEEDED:
        bad = [step for step in steps if step.status == Status.CANCELED]
    if not bad:
        return []
    edges = list(edges)
    if not edges:
        first = min(bad, key=lambda step: (step.started_at is None, step.started_at or 0))
        return [first]
    downstream_of_bad = downstream({step.pk for step in bad}, edges)
    return [step for step in bad if step.pk not in downstream_of_bad]


def victims(
    steps: Iterable[Any], culprit_steps: Iterable[Any], edges: Iterable[tuple[int, int]]
) -> set[int]:
    """Steps that failed, were canceled or skipped because a culprit upstream of them failed:
    Airflow's "upstream failed"."""
    below = downstream({step.pk for step in culprit_steps}, edges)
    return {step.pk for step in steps if step.pk in below and step.status in VICTIM_STATUSES}


def downstream(starts: set[int], edges: Iterable[tuple[int, int]]) -> set[int]:
    """Every step reachable from `starts` along the edges, `starts` excluded unless reached."""
    following: dict[int, list[int]] = {}
    for up, down in edges:
        following.setdefault(up, []).append(down)
    seen: set[int] = set()
    stack = [down for start in starts for down in following.get(start, [])]
    while stack:
        step = stack.pop()
        if step not in seen:
            seen.add(step)
            stack.extend(following.get(step, []))
    return seen


class Kind(models.TextChoices):
    FLOW = "flow", _("Flow")
    JOB = "job", _("Job")
    TASK = "task", _("Task")
    SUBTASK = "subtask", _("Subtask")

"""A run beside its definition's last good run (the newest success before it): each step's
status and duration side by side, how much slower, and the run's parameters where the vendor
gives them (Airflow's `conf`; EnOS's `parameters`, a JSON-encoded list of {key, value})."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from instances.models import Instance, Status

STEP_FIELDS = ("name", "definition_id", "status", "started_at", "finished_at", "duration")
MOST_STEPS = 2_000  # a run's steps compared at most (the biggest DAG on-call reads)


@dataclass
class Row:
    name: str
    this: Instance | None
    good: Instance | None

    @property
    def this_took(self) -> timedelta | None:
        return took(self.this)

    @property
    def good_took(self) -> timedelta | None:
        return took(self.good)

    @property
    def slower_by(self) -> timedelta | None:
        mine, theirs = self.this_took, self.good_took
        return mine - theirs if mine is not None and theirs is not None and mine > theirs else None

    @property
    def quicker_by(self) -> timedelta | None:
        mine, theirs = self.this_took, self.good_took
        return theirs - mine if mine is not None and theirs is not None and mine < theirs else None

    @property
    def changed(self) -> bool:
        return self.this is None or self.good is None or self.this.status != self.good.status


def last_good(run: Instance) -> Instance | None:
    return (
        Instance.objects.filter(
            backend_id=run.backend_id,
            parent_id=run.parent_id,
            definition_id=run.definition_id,
            status=Status.SUCCEEDED,
            run_at__lt=run.run_at,
        )
        .exclude(pk=run.pk)
        .order_by("-run_at", "-id")
        .first()
    )


def rows(run: Instance, good: Instance) -> list[Row]:
    """Steps matched by their definition (else their name), in this run's order, then those
    only the good run had."""
    mine = steps_of(run)
    theirs = {key_of(step): step for step in steps_of(good)}
    matched = [Row(step.name, step, theirs.pop(key_of(step), None)) for step in mine]
    return matched + [Row(step.name, None, step) for step in theirs.values()]


def steps_of(run: Instance) -> list[Instance]:
    steps = Instance.objects.filter(parent=run).only(*STEP_FIELDS)
    return list(steps.order_by("started_at", "id")[:MOST_STEPS])


def key_of(step: Instance) -> str:
    return step.definition_id or step.name


def took(run: Instance | None) -> timedelta | None:
    if run is None:
        return None
    if run.duration is not None:
        return run.duration
    if run.started_at and run.finished_at:
        return run.finished_at - run.started_at
    return None


def parameters(run: Instance) -> dict[str, str]:
    """The run's parameters as text, {} when its vendor gives none (or gives them garbled)."""
    raw = run.raw if isinstance(run.raw, dict) else {}
    if isinstance(conf := raw.get("conf"), dict):
        return {str(key): json.dumps(value, ensure_ascii=False) for key, value in conf.items()}
    given = raw.get("parameters")
    try:
        listed = json.loads(given) if isinstance(given, str) else given
    except ValueError:
        return {}
    if isinstance(listed, list):
        pairs = [p for p in listed if isinstance(p, dict) and "key" in p]
        return {str(p["key"]): str(p.get("value", "")) for p in pairs}
    return {}


def parameter_rows(run: Instance, good: Instance) -> list[tuple[str, str, str]]:
    """(name, this run's, the good run's) for every parameter either has."""
    mine, theirs = parameters(run), parameters(good)
    return [(key, mine.get(key, "—"), theirs.get(key, "—")) for key in sorted(mine | theirs)]

"""What the emulated world is made of: definitions, their runs and each run's steps, with
a timeline drawn once, so that a run's state at any moment is a pure function of the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, SKIPPED, TIMEOUT = (
    "pending",
    "running",
    "succeeded",
    "failed",
    "canceled",
    "skipped",
    "timeout",
)
OUTCOMES = [(SUCCEEDED, 0.80), (FAILED, 0.12), (TIMEOUT, 0.03), (CANCELED, 0.03), (SKIPPED, 0.02)]


STEP_NAMES = [
    "extract orders",
    "清洗订单数据",
    "load warehouse",
    "汇总日报",
    "refresh cube",
    "send report",
    "校验数据质量",
    "archive raw files",
    "同步维表",
    "compute kpis",
    "backup tenant",
    "重建索引",
]


@dataclass
class Step:
    id: str
    name: str
    upstream: list[str]
    start: datetime
    end: datetime
    outcome: str
    attempts: int = 1
    marked: str = ""  # a state set through a vendor's API (Airflow's "mark success")

    def tries(self, now: datetime, run: Run) -> int:
        """Tries so far: a step that had not succeeded ran once more when its run was retried
        in place (by the scenario, or by a test forcing the run to succeed)."""
        again = self.outcome != SUCCEEDED and (run.retried_by(now) or run.forced == SUCCEEDED)
        return self.attempts + again

    def status(self, now: datetime, run: Run) -> str:
        if self.marked:
            return self.marked
        if run.forced:
            return run.forced if self.start <= now else CANCELED
        if run.retried_by(now):
            return RUNNING if self.outcome != SUCCEEDED and run.rerunning(now) else SUCCEEDED
        if run.stopped_at and run.stopped_before(self.end, now):
            return run.stopped_as if self.start <= run.stopped_at else SKIPPED
        if now < self.start:
            return PENDING
        if now < self.end:
            return RUNNING
        return self.outcome


@dataclass
class Run:
    vendor: str
    id: str
    definition_id: str
    definition_name: str
    planned: datetime
    steps: list[Step]
    owner: str
    seq: int  # a number unique per vendor, for ids that must be integers
    period: timedelta = timedelta(days=1)  # the definition's schedule
    forced: str = ""  # set through the control API (cancel, or a test's status change)
    sample: dict | None = None  # a seed document's own record, rendered as printed
    # fields to overwrite in the vendor's record ("record") or a step's ("steps": index →
    # fields), set through the control API: hostile records, where a vendor renders them
    patch: dict = field(default_factory=dict)
    # runs change after they end: on-call retries a failed run in place (it then succeeds),
    # or someone deletes a finished run, at these moments of the emulator's clock
    retried_at: datetime | None = None
    deleted_at: datetime | None = None
    # a retry asked through a vendor's API: the steps that had not succeeded run again for
    # this long, then succeed (the scenario's own retries succeed at once)
    rerun_for: timedelta = timedelta()
    # stopped through a vendor's API: steps running then end as `stopped_as`, later ones skip
    stopped_at: datetime | None = None
    stopped_as: str = CANCELED
    # started by a vendor's trigger (its seq past every scheduled run's), maybe with an id
    # the caller chose
    given_id: str = ""

    @property
    def triggered(self) -> bool:
        return self.seq > 10**9

    def retried_by(self, now: datetime) -> bool:
        return self.retried_at is not None and now >= self.retried_at

    def rerunning(self, now: datetime) -> bool:
        return (
            self.retried_at is not None
            and self.retried_at <= now < self.retried_at + self.rerun_for
        )

    def stopped_before(self, moment: datetime, now: datetime) -> bool:
        """Stopped by now, before `moment` (a step's end, or the run's)."""
        return self.stopped_at is not None and self.stopped_at <= now and self.stopped_at < moment

    def retry(self, now: datetime, rerun_for: timedelta) -> None:
        """Retried in place, from now: its steps that had not succeeded run again."""
        self.retried_at, self.rerun_for, self.stopped_at = now, rerun_for, None

    def stop(self, now: datetime, stopped_as: str = CANCELED) -> None:
        self.stopped_at, self.stopped_as = now, stopped_as

    def exists(self, now: datetime) -> bool:
        return self.planned <= now and not (self.deleted_at and now >= self.deleted_at)

    @property
    def start(self) -> datetime:
        return min(step.start for step in self.steps)

    @property
    def end(self) -> datetime:
        return max(step.end for step in self.steps)

    def status(self, now: datetime) -> str:
        if self.forced:
            return self.forced
        if self.retried_by(now):
            return RUNNING if self.rerunning(now) else SUCCEEDED
        if self.stopped_before(self.end, now):
            return self.stopped_as
        states = [step.status(now, self) for step in self.steps]
        for bad in (FAILED, TIMEOUT, CANCELED):
            if bad in states and now >= self.end:
                return bad
        if all(s == PENDING for s in states):
            return PENDING
        if any(s in (PENDING, RUNNING) for s in states):
            return RUNNING
        if all(s == SKIPPED for s in states):
            return SKIPPED
        return FAILED if FAILED in states or TIMEOUT in states else SUCCEEDED

    def finished_at(self, now: datetime) -> datetime | None:
        if self.retried_at and self.retried_by(now) and not self.forced:
            return None if self.rerunning(now) else self.retried_at + self.rerun_for
        if self.stopped_at and self.stopped_before(self.end, now):
            return self.stopped_at
        return self.end if self.forced or now >= self.end else None


@dataclass
class Definition:
    vendor: str
    id: str
    name: str
    every: timedelta
    steps: int
    owner: str

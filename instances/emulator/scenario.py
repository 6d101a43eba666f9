"""A deterministic world of scheduled runs that every vendor module renders in its own format.

A run's whole timeline (when each step starts and ends, how it ends) is drawn once from the
seed, so its state at any moment is a pure function of the emulator clock: runs move from
pending to running to their outcome as the clock advances, with no background thread. The
clock can run faster than real time (`speed`).
"""

from __future__ import annotations

import math
import random
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .runs import (
    CANCELED,
    FAILED,
    OUTCOMES,
    PENDING,
    RUNNING,
    SKIPPED,
    STEP_NAMES,
    SUCCEEDED,
    TIMEOUT,
    Definition,
    Run,
    Step,
)

# what vendor emulators read as scenario.X: the world, and what it is made of
__all__ = [
    "CANCELED",
    "FAILED",
    "PENDING",
    "RUNNING",
    "SKIPPED",
    "SUCCEEDED",
    "TIMEOUT",
    "Run",
    "Scenario",
    "Step",
]


@dataclass
class Scenario:
    seed: int = 1
    speed: float = 1.0
    definitions_per_vendor: int = 4
    history: timedelta = timedelta(hours=6)
    steps: tuple[int, int] = (3, 12)
    vendors: tuple[str, ...] = ()  # the APIs it renders runs for; () for every emulated API
    started_real: float = field(default_factory=time.monotonic)
    epoch: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    skew: timedelta = timedelta()
    definitions: list[Definition] = field(default_factory=list)
    runs: dict[str, dict[str, Run]] = field(default_factory=dict)  # vendor → id → run
    by_seq: dict[str, dict[int, Run]] = field(default_factory=dict)  # vendor → seq → run
    built_until: datetime | None = None
    deleted: set[tuple[str, str]] = field(default_factory=set)  # (vendor, run id) removed
    # how long the steps of a run retried through a vendor's API run again (emulator clock)
    rerun_for: timedelta = timedelta(seconds=20)
    triggered: int = 0  # runs started through a vendor's trigger
    paused: set[tuple[str, str]] = field(default_factory=set)  # (vendor, definition id)
    # (vendor, definition id) → how many times their drawn length its runs' steps take, for
    # runs whose tick comes after it was set (a platform under load)
    paces: dict[tuple[str, str], float] = field(default_factory=dict)
    # each step about as long every run (±10 %), as real flows' steps are; else drawn anew
    steady: bool = False

    def __post_init__(self) -> None:
        if not self.vendors:
            from instances.registry import VENDORS

            self.vendors = VENDORS
        rng = random.Random(self.seed)
        intervals = [
            timedelta(minutes=5),
            timedelta(minutes=15),
            timedelta(hours=1),
            timedelta(days=1),
            timedelta(days=7),
            timedelta(days=30),
        ]
        for vendor in self.vendors:
            for n in range(self.definitions_per_vendor):
                self.definitions.append(
                    Definition(
                        vendor=vendor,
                        id=str(2400 + n * 7 + len(self.definitions)),
                        name=f"{rng.choice(['nightly', '每日', 'hourly', 'ad-hoc'])} "
                        f"{rng.choice(STEP_NAMES)} {n}",
                        every=intervals[n % len(intervals)],
                        steps=rng.randint(*self.steps),
                        owner=rng.choice(["ops", "数据组", "finance", "oncall"]),
                    )
                )
            self.runs[vendor], self.by_seq[vendor] = {}, {}
        self.refresh()

    # -- the clock --------------------------------------------------------------------------

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self.started_real) * self.speed
        return self.epoch + timedelta(seconds=elapsed) + self.skew

    def advance(self, seconds: float) -> None:
        self.skew += timedelta(seconds=seconds)
        self.refresh()

    # -- runs -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Create every run whose schedule tick has come (idempotent)."""
        now = self.now()
        since = self.built_until or self.epoch - self.history
        for definition in self.definitions:
            if (definition.vendor, definition.id) in self.paused:
                continue  # its schedule is paused: its ticks pass without a run
            tick = self._first_tick(definition, since)
            while tick <= now:
                run_id = f"{definition.id}-{tick:%Y%m%d%H%M%S}"
                if run_id not in self.runs[definition.vendor] and (
                    (definition.vendor, run_id) not in self.deleted
                ):
                    self.add(self._build(definition, tick))
                tick += definition.every
        self.built_until = now

    # Ticks fall whole periods before and after the epoch, and each run is drawn from its
    # tick's number, so a seed gives the same world relative to the start whatever the time
    # of day: tests and demos never depend on when they run.
    def _first_tick(self, definition: Definition, since: datetime) -> datetime:
        return self.epoch - (self.epoch - since) // definition.every * definition.every

    def _build(self, definition: Definition, tick: datetime) -> Run:
        number = (tick - self.epoch) // definition.every
        rng = random.Random(zlib.crc32(f"{self.seed}/{definition.id}/{number}".encode()))
        stamp = tick.strftime("%Y%m%d%H%M%S")
        # Increasing with time, as vendors' own sequence ids are; unique per vendor.
        index = self.definitions.index(definition)
        seq = int(tick.timestamp() // 60) % 10**7 * 100 + index
        steps: list[Step] = []
        # A definition's steps keep their names and their DAG from run to run, as a flow's
        # tasks or a job's nodes do; only timings and outcomes are drawn per run.
        shape = random.Random(zlib.crc32(f"{self.seed}/{definition.id}/shape".encode()))
        clock = tick + timedelta(seconds=rng.randint(0, 30))
        outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        failing = rng.randrange(definition.steps) if outcome != SUCCEEDED else -1
        pace = self.paces.get((definition.vendor, definition.id), 1.0)
        blocked: set[str] = set()  # the failing step and everything downstream of it
        ends: dict[str, datetime] = {}
        for n in range(definition.steps):
            step_id = f"{seq}{n:03d}"
            upstream = self._upstream(shape, n, steps, definition.steps)
            begin = max([clock] + [ends[up] for up in upstream])
            length = timedelta(seconds=rng.randint(20, 240))
            if self.steady:
                usual = random.Random(zlib.crc32(f"{self.seed}/{definition.id}/{n}".encode()))
                length = timedelta(seconds=usual.randint(20, 240) * rng.uniform(0.9, 1.1))
            length *= pace
            result = SUCCEEDED
            if n == failing:
                result = outcome
                blocked.add(step_id)
            elif blocked.intersection(upstream) and outcome != SKIPPED:
                # skipped after a failure, or ended with the run (timeout, cancel)
                result = SKIPPED if outcome == FAILED else outcome
                blocked.add(step_id)
            if result == SKIPPED or (n != failing and result != SUCCEEDED):
                length = timedelta(seconds=rng.randint(0, 2))  # it never ran
            steps.append(
                Step(
                    id=step_id,
                    name=f"{STEP_NAMES[(n + index) % len(STEP_NAMES)]} #{n}",
                    upstream=upstream,
                    start=begin,
                    end=begin + length,
                    outcome=result,
                    attempts=2 if result == FAILED and rng.random() < 0.5 else 1,
                )
            )
            ends[step_id] = steps[-1].end
        run = Run(
            vendor=definition.vendor,
            id=f"{definition.id}-{stamp}",
            definition_id=definition.id,
            definition_name=definition.name,
            planned=tick,
            steps=steps,
            owner=definition.owner,
            seq=seq,
            period=definition.every,
        )
        return self._afterlife(run, outcome, f"{self.seed}/{definition.id}/{number}")

    def _afterlife(self, run: Run, outcome: str, key: str) -> Run:
        """What happens to a run after it ends, drawn apart (so the rest of the world stays
        as the seed drew it): a quarter of failures are retried in place 20-50 minutes later
        and succeed; one finished run in fifty is deleted an hour later."""
        draw = random.Random(zlib.crc32(f"{key}/afterlife".encode()))
        if outcome in (FAILED, TIMEOUT) and draw.random() < 0.25:
            run.retried_at = run.end + timedelta(minutes=draw.randint(20, 50))
        elif draw.random() < 0.02:
            run.deleted_at = run.end + timedelta(hours=1)
        return run

    @staticmethod
    def _upstream(rng: random.Random, n: int, steps: list[Step], total: int) -> list[str]:
        """Chains, fan-out and fan-in: each step depends on one or two earlier ones. A big flow
        is wide, as real ones are (2,000 steps in layers of about 44, each step waiting on one
        or two of the layer before): a chain of them would run for days."""
        width = math.isqrt(total)
        if width > 3:
            layer = n // width
            if layer == 0:
                return []
            before = range((layer - 1) * width, layer * width)
            picks = {steps[rng.choice(before)].id}
            if rng.random() < 0.3:
                picks.add(steps[rng.choice(before)].id)
            return sorted(picks)
        if n == 0:
            return []
        picks = {steps[n - 1].id}
        if n > 2 and rng.random() < 0.4:
            picks = {steps[rng.randrange(max(0, n - 3), n - 1)].id}
        if n > 3 and rng.random() < 0.3:
            picks.add(steps[rng.randrange(0, n - 1)].id)
        return sorted(picks)

    def trigger(
        self, vendor: str, definition_id: str, from_step: int | None = None, name: str = ""
    ) -> Run | None:
        """A new run of the definition, now, as a vendor's trigger starts one (`name`: the id
        the caller gave it): every step (or step number `from_step` and those downstream of
        it; the others skip) runs and succeeds."""
        definition = next(
            (d for d in self.definitions if d.vendor == vendor and d.id == definition_id), None
        )
        if definition is None or not -1 < (from_step or 0) < definition.steps:
            return None
        now = self.now().replace(microsecond=0)
        run = self._build(definition, now)
        run.retried_at = run.deleted_at = None
        run.given_id = name
        # numbered after every scheduled run (those stay below 10**9), in trigger order
        self.triggered += 1
        run.seq = 10**9 + self.triggered
        run.id = f"{definition.id}-{now:%Y%m%d%H%M%S}"
        if run.id in self.runs[vendor]:  # a scheduled run of this very second
            run.id += "-1"
        renamed = {step.id: f"{run.seq}{n:03d}" for n, step in enumerate(run.steps)}
        again = {renamed[run.steps[from_step].id]} if from_step is not None else set()
        for step in run.steps:
            step.id, step.upstream = renamed[step.id], [renamed[up] for up in step.upstream]
            if from_step is None or again.intersection(step.upstream):
                again.add(step.id)
            step.outcome, step.attempts = (SUCCEEDED if step.id in again else SKIPPED), 1
        self.add(run)
        return run

    def visible(self, vendor: str) -> list[Run]:
        """Runs of one vendor that exist by now, newest first."""
        self.refresh()
        now = self.now()
        return sorted(
            (r for r in self.runs[vendor].values() if r.exists(now)),
            key=lambda r: (r.planned, r.seq),
            reverse=True,
        )

    def find(self, vendor: str, run_id: str) -> Run | None:
        self.refresh()
        run = self.runs[vendor].get(run_id)
        return run if run and run.exists(self.now()) else None

    def find_seq(self, vendor: str, seq: int) -> Run | None:
        self.refresh()
        run = self.by_seq[vendor].get(seq)
        return run if run and run.exists(self.now()) else None

    def add(self, run: Run) -> None:
        self.runs[run.vendor][run.id] = run
        self.by_seq[run.vendor][run.seq] = run

    def delete(self, run: Run) -> None:
        """Gone from the vendor, as if someone deleted it: listed and found no more."""
        self.deleted.add((run.vendor, run.id))
        del self.runs[run.vendor][run.id], self.by_seq[run.vendor][run.seq]

"""A run whose steps take 3× their usual time is told before its deadline: the *late soon*
rule fires while the run goes on, with its predicted finish, and that prediction comes within
±10 % of when the run really ends. The run is played forward step by step on a frozen clock,
each check seeing only what a poll would have stored by then; then the same through the
emulated EnOS API, polled as Runboard polls it."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from instances import forecast
from instances.alerts import deadlines
from instances.alerts.models import Alert, AlertEvent, AlertRule
from instances.models import Edge, Instance, Status
from tests.factories import BackendFactory, InstanceFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
USUAL = {"extract": 10, "transform": 20, "load": 15}  # minutes, one after another
DAY = date(2026, 3, 3)
DEADLINE = time(6, 30)  # usually done by 05:45; at 3×, by 07:15
KIND = "enos_batch_v21"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


@dataclass
class Played:
    """A run of orders with its steps, played as the vendor would show it at a moment."""

    run: Instance
    steps: list[tuple[Instance, datetime, datetime]]  # step, its start, its end

    def show(self, now: datetime) -> None:
        for step, began, ended in self.steps:
            step.started_at = began if began <= now else None
            step.finished_at = ended if ended <= now else None
            step.status = (
                Status.SUCCEEDED
                if ended <= now
                else Status.RUNNING
                if began <= now
                else Status.PENDING
            )
            step.save()
        self.run.finished_at = self.steps[-1][2] if self.steps[-1][2] <= now else None
        self.run.status = Status.SUCCEEDED if self.run.finished_at else Status.RUNNING
        self.run.save()


def orders(backend, day: date, pace: float, wobble: int = 0) -> Played:
    start = at(day, 5)
    run = InstanceFactory(
        backend=backend,
        definition_id="orders",
        name="nightly orders",
        run_at=start,
        started_at=start,
        status=Status.RUNNING,
    )
    steps, clock = [], start
    for n, (name, minutes) in enumerate(USUAL.items()):
        length = timedelta(minutes=minutes * pace + wobble * (n - 1))
        step = InstanceFactory(
            backend=backend, parent=run, kind="task", name=name, definition_id=name
        )
        steps.append((step, clock, clock + length))
        clock += length
    for (up, _, _), (down, _, _) in pairwise(steps):
        Edge.objects.create(parent=run, upstream=up, downstream=down)
    played = Played(run, steps)
    played.show(clock)
    return played


@pytest.fixture
def backend():
    backend = BackendFactory(name="EnOS prod", timezone="Asia/Shanghai")
    AlertRule.objects.create(
        team=backend.team,
        name="orders will be late",
        kind="late_soon",
        definition_id="orders",
        deadline=DEADLINE,
    )
    for days_ago, wobble in zip(range(1, 7), (-1, 1, 0, 2, -2, 1), strict=True):
        orders(backend, DAY - timedelta(days=days_ago), 1.0, wobble)  # usual, ± a minute
    return backend


def test_a_run_at_three_times_its_usual_pace_is_told_before_its_deadline(backend):
    slow = orders(backend, DAY, 3.0)
    really_ends = slow.steps[-1][2]
    fired_at = predicted = None
    now = at(DAY, 5)
    while now <= really_ends:
        slow.show(now)
        deadlines.check_late(backend, now)
        if fired_at is None and Alert.objects.filter(state="firing").exists():
            fired_at, predicted = now, forecast.finish(slow.run, now)
        now += timedelta(minutes=5)
    assert fired_at is not None and fired_at < at(DAY, 6, 30)
    took = really_ends - slow.run.started_at
    assert abs(predicted - really_ends) <= took * 0.1
    alert = Alert.objects.get()
    assert alert.title == "nightly orders will miss its 06:30 Asia/Shanghai deadline on EnOS prod"
    shown = f"{predicted.astimezone(SHANGHAI):%H:%M}"
    fired = AlertEvent.objects.get(alert=alert, what="fired").note
    assert (
        fired
        == f"predicted to finish at {shown} Asia/Shanghai, after its 06:30 Asia/Shanghai deadline"
    )
    assert alert.state == "resolved"  # it succeeded, late: the late rule's to tell
    assert (
        AlertEvent.objects.get(alert=alert, what="resolved").note
        == "it succeeded at 07:15 Asia/Shanghai"
    )


def test_a_run_at_its_usual_pace_is_never_told(backend):
    usual = orders(backend, DAY, 1.0)
    now = at(DAY, 5)
    while now <= usual.steps[-1][2]:
        usual.show(now)
        deadlines.check_late(backend, now)
        now += timedelta(minutes=5)
    assert not Alert.objects.exists()


def test_an_emulated_run_at_three_times_its_pace_is_told_before_its_deadline():
    """The same, through the vendor's API: EnOS's emulated hourly flow, its last 12 runs
    polled as history, then its next run slowed to 3× (the emulator's `paces`), polled
    and checked every 5 minutes of the emulator's clock until it ends."""
    from instances import sync
    from instances.emulator.runner import run_emulator
    from instances.management.commands.demo_setup import demo_backends

    # the emulator's clock at half past an hour (runs are polled near real time); the next
    # hour is midnight in the deadline's zone, so the run slowed, at half past, is its day's
    # first and the run before it ended the day before
    epoch = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    midnight = epoch + timedelta(minutes=30)
    zone = f"Etc/GMT+{midnight.hour}" if midnight.hour <= 12 else f"Etc/GMT-{24 - midnight.hour}"
    assert midnight.astimezone(ZoneInfo(zone)).time() == time()
    with run_emulator(
        seed=7, speed=0, history=timedelta(hours=12), epoch=epoch, steady=True
    ) as emulator:
        world = emulator.scenario
        flow = next(
            d for d in world.definitions if d.vendor == KIND and d.every == timedelta(hours=1)
        )
        slowed = epoch + flow.every
        backend, secrets = next((b, s) for b, s in demo_backends() if b.kind == KIND)
        backend.base_url, backend.credentials = emulator.base_url, secrets
        backend.team = Group.objects.create(name="data platform")
        backend.save()
        assert sync.poll_backend(backend.pk).outcome == "ok"
        history = backend.instances.filter(
            parent__isnull=True, definition_id=flow.id, status=Status.SUCCEEDED
        )
        usual = sorted(r.finished_at - r.started_at for r in history)[len(history) // 2]
        deadline = (slowed + 2 * usual).replace(second=0, microsecond=0)
        AlertRule.objects.create(
            team=backend.team,
            name="flow in time",
            kind="late_soon",
            definition_id=flow.id,
            deadline=deadline.astimezone(ZoneInfo(zone)).time(),
            deadline_zone=zone,
        )
        world.paces[KIND, flow.id] = 3.0
        world.advance((slowed - world.now()).total_seconds())
        fired_at = predicted = None
        while True:
            assert sync.poll_backend(backend.pk).outcome == "ok"
            runs = backend.instances.filter(parent__isnull=True, definition_id=flow.id)
            run = runs.filter(run_at__gte=slowed).order_by("run_at").first()
            deadlines.check_late(backend, world.now())
            if fired_at is None and Alert.objects.filter(state="firing").exists():
                fired_at, predicted = world.now(), forecast.finish(run, world.now())
            if run is not None and run.status == Status.SUCCEEDED:
                break
            assert world.now() < slowed + 10 * usual, "the slowed run never ended"
            world.advance(300)
    assert len(history) >= 5 and fired_at is not None and fired_at < deadline
    took = run.finished_at - run.started_at
    assert took > 2.5 * usual  # it did run slow
    assert abs(predicted - run.finished_at) <= took * 0.1
    assert Alert.objects.get().error_line.startswith("predicted to finish at")

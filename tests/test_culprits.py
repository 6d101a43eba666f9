"""Which step failed the run (the culprit) and which failed because of it (upstream failed),
on chains, fan-out, fan-in and runs whose vendor gives no edges."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from instances.status import Status, culprits, victims

T0 = datetime(2026, 11, 1, tzinfo=UTC)
F, S, K, OK, R = Status.FAILED, Status.SKIPPED, Status.CANCELED, Status.SUCCEEDED, Status.RUNNING


@dataclass
class Step:
    pk: int
    status: str
    started_at: datetime | None = None


def steps(*statuses: str) -> list[Step]:
    """Steps 1…n started a minute apart, in that order."""
    return [Step(n, s, T0 + timedelta(minutes=n)) for n, s in enumerate(statuses, 1)]


def pks(found) -> list[int]:
    return [step.pk for step in found]


def test_a_chain_blames_its_first_failure_and_marks_what_followed():
    chain = steps(OK, F, F, S)  # 1 → 2 → 3 → 4
    edges = [(1, 2), (2, 3), (3, 4)]
    blamed = culprits(F, chain, edges)
    assert pks(blamed) == [2]
    assert victims(chain, blamed, edges) == {3, 4}


def test_a_chain_blames_the_failure_after_a_skipped_step_too():
    chain = steps(F, S, F)  # 1 → 2 → 3: 3 failed only because 1 did
    edges = [(1, 2), (2, 3)]
    assert pks(culprits(F, chain, edges)) == [1]
    assert victims(chain, culprits(F, chain, edges), edges) == {2, 3}


def test_fan_out_keeps_an_independent_failure_as_a_second_culprit():
    # 1 → 2, 1 → 3, 4 → 5: 1 fails, 2 and 3 follow it; 5 fails on its own branch
    run = steps(F, F, S, OK, F)
    edges = [(1, 2), (1, 3), (4, 5)]
    blamed = culprits(F, run, edges)
    assert pks(blamed) == [1, 5]
    assert victims(run, blamed, edges) == {2, 3}


def test_fan_in_blames_each_failed_branch_and_not_their_join():
    # 1 → 3, 2 → 3, 3 → 4: both inputs failed, the join was skipped, then 4 failed
    run = steps(F, F, S, F)
    edges = [(1, 3), (2, 3), (3, 4)]
    blamed = culprits(F, run, edges)
    assert pks(blamed) == [1, 2]
    assert victims(run, blamed, edges) == {3, 4}


def test_steps_still_running_or_done_are_never_victims():
    run = steps(F, R, OK)  # 1 → 2, 1 → 3
    edges = [(1, 2), (1, 3)]
    assert victims(run, culprits(F, run, edges), edges) == set()


def test_without_edges_the_earliest_failure_is_the_culprit():
    run = [Step(1, F, T0 + timedelta(minutes=5)), Step(2, F, T0), Step(3, F, None)]
    assert pks(culprits(F, run)) == [2]
    assert pks(culprits(F, [Step(1, F, None), Step(2, F, None)])) == [1]  # then order given


def test_a_canceled_step_is_the_culprit_when_nothing_failed():
    run = steps(OK, K, S)
    edges = [(1, 2), (2, 3)]
    assert pks(culprits(F, run, edges)) == [2]
    assert pks(culprits(OK, run, edges)) == []  # the run succeeded all the same

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from instances import errors
from instances.emulator.failures import KINDS_PER_DEFINITION, failure
from instances.emulator.scenario import FAILED, TIMEOUT, Scenario


def shape(scenario: Scenario) -> list[tuple]:
    """A world as seen from its own start: what ran when, how each step stands now."""
    now = scenario.now()
    return [
        (
            run.definition_id,
            run.planned - scenario.epoch,
            run.status(now),
            [(step.name, step.status(now, run), step.end - step.start) for step in run.steps],
        )
        for vendor in scenario.vendors
        for run in scenario.visible(vendor)
    ]


def test_a_seed_gives_the_same_world_whatever_the_time_of_day():
    morning = Scenario(seed=7, speed=0, epoch=datetime(2026, 11, 23, 7, 2, 13, tzinfo=UTC))
    evening = Scenario(seed=7, speed=0, epoch=datetime(2026, 3, 1, 19, 41, 5, tzinfo=UTC))
    assert shape(morning) == shape(evening)
    assert shape(morning) != shape(Scenario(seed=8, speed=0, epoch=morning.epoch))


def test_ticks_keep_their_period_as_the_clock_advances():
    scenario = Scenario(seed=1, speed=0, epoch=datetime(2026, 11, 23, 7, 2, 13, tzinfo=UTC))
    scenario.advance(3600)
    runs = scenario.runs["ocp"].values()  # deleted ones too: a deletion leaves no gap in ticks
    planned = sorted(r.planned for r in runs if r.definition_id == "2408")
    assert {b - a for a, b in pairwise(planned)} == {timedelta(minutes=5)}
    assert planned[-1] == scenario.epoch + timedelta(hours=1)


def test_a_definitions_steps_keep_their_names_and_dag_from_run_to_run():
    scenario = Scenario(seed=3, speed=0)
    for definition in scenario.definitions:
        runs = [
            r for r in scenario.runs[definition.vendor].values() if r.definition_id == definition.id
        ]
        shapes = set()
        for run in runs:
            position = {step.id: n for n, step in enumerate(run.steps)}
            shapes.add(tuple((s.name, tuple(position[u] for u in s.upstream)) for s in run.steps))
        assert len(runs) > 0 and len(shapes) == 1, definition.name


def test_only_steps_downstream_of_a_failure_are_skipped_and_they_do_not_run():
    scenario = Scenario(seed=3, speed=0, definitions_per_vendor=8)
    failed = [
        run
        for runs in scenario.runs.values()
        for run in runs.values()
        if any(step.outcome == "failed" for step in run.steps)
    ]
    assert failed
    skipped = [
        step
        for runs in scenario.runs.values()
        for run in runs.values()
        for step in run.steps
        if step.outcome == "skipped"
    ]
    assert all((step.end - step.start).total_seconds() <= 2 for step in skipped)
    for run in failed:
        broken = {step.id for step in run.steps if step.outcome == "failed"}
        for step in run.steps:
            if step.outcome == "skipped":
                assert broken.intersection(step.upstream), (run.id, step.name)
                assert (step.end - step.start).total_seconds() <= 2
                broken.add(step.id)
            elif step.outcome == "succeeded":
                assert not broken.intersection(step.upstream), (run.id, step.name)


def test_each_definition_fails_in_a_few_realistic_ways_of_its_own():
    scenario = Scenario(seed=7, speed=0, epoch=datetime(2026, 11, 23, 7, 2, 13, tzinfo=UTC))
    scenario.advance(7 * 24 * 3600)
    kinds_by_definition: dict[str, set[str]] = {}
    for vendor in scenario.vendors:
        for run in scenario.visible(vendor):
            for step in run.steps:
                if step.outcome in (FAILED, TIMEOUT):
                    found = failure(run, step)
                    assert failure(run, step) == found  # the same every time it is asked
                    assert errors.kind("\n".join(found.log)) or "KeyError" in found.message
                    kinds_by_definition.setdefault(run.definition_id, set()).add(found.kind)
    assert all(
        len(kinds - {"timeout"}) <= KINDS_PER_DEFINITION for kinds in kinds_by_definition.values()
    )
    assert len(set().union(*kinds_by_definition.values())) >= 5  # the world fails variously

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from instances import known, rollups, scheduling, sync, writing
from instances.connectors.base import BadPayload, RateLimited
from instances.models import (
    Backend,
    Edge,
    Instance,
    Poll,
    Rollup,
    Status,
    StatusChange,
    StatusRollup,
)
from tests.factories import BackendFactory
from tests.pipeline.fake import flow, task

pytestmark = pytest.mark.django_db


def vendor_with(fake, *flows):
    for root, children, edges in flows:
        fake.vendor[root.external_id] = (root, children, edges)


def three_task_flow(ext: str, status=Status.RUNNING, failing: str | None = None):
    kids = [task(f"{ext}.{n}", ext) for n in "abc"]
    if failing:
        kids = [replace(k, status=Status.FAILED) if k.external_id == failing else k for k in kids]
    return flow(ext, status), kids, [(f"{ext}.a", f"{ext}.b"), (f"{ext}.b", f"{ext}.c")]


def test_first_poll_stores_runs_children_edges_and_history(fake, backend):
    vendor_with(fake, three_task_flow("f1"), three_task_flow("f2"), three_task_flow("f3"))
    poll = sync.poll_backend(backend.pk)
    assert poll.outcome == Poll.Outcome.OK
    assert (poll.fetched, poll.created, poll.changed) == (3, 12, 0)
    f1 = Instance.objects.get(external_id="f1")
    assert sorted(f1.children.values_list("external_id", flat=True)) == ["f1.a", "f1.b", "f1.c"]
    edges = Edge.objects.filter(parent=f1)
    assert set(edges.values_list("upstream__external_id", "downstream__external_id")) == {
        ("f1.a", "f1.b"),
        ("f1.b", "f1.c"),
    }
    assert StatusChange.objects.count() == 12  # every run's first sighting
    backend.refresh_from_db()
    assert backend.last_success_at and backend.consecutive_failures == 0
    assert backend.watermark == poll.started_at and backend.claimed_until is None


def test_repolling_unchanged_data_writes_nothing(fake, backend):
    vendor_with(fake, three_task_flow("f1"), three_task_flow("f2", Status.SUCCEEDED))
    sync.poll_backend(backend.pk)
    before = dict(Instance.objects.values_list("external_id", "updated_at"))
    fake.calls.clear()
    poll = sync.poll_backend(backend.pk)
    assert dict(Instance.objects.values_list("external_id", "updated_at")) == before
    assert StatusChange.objects.count() == 8
    assert (poll.created, poll.updated, poll.changed) == (0, 0, 0)
    # the running flow is read again for its steps; the finished one is not
    assert [c for c in fake.calls if c.startswith("expand")] == ["expand f1"]


def test_steps_of_a_running_run_move_on_while_its_list_entry_stays_the_same(fake, backend):
    root, kids, edges = three_task_flow("f1")
    vendor_with(fake, (root, kids, edges))
    sync.poll_backend(backend.pk)
    kids[0] = replace(kids[0], status=Status.SUCCEEDED)
    kids[1] = replace(kids[1], status=Status.FAILED)
    vendor_with(fake, (root, kids, edges))  # the flow's own entry still says RUNNING
    poll = sync.poll_backend(backend.pk)
    assert Instance.objects.get(external_id="f1.b").status == Status.FAILED
    assert (poll.updated, poll.changed) == (2, 2)
    assert Instance.objects.get(external_id="f1").changes.count() == 1


def test_running_runs_read_again_per_page_are_capped(fake, backend, monkeypatch):
    monkeypatch.setattr(sync, "LIVE_REREADS_PER_PAGE", 1)
    vendor_with(fake, three_task_flow("f1"), three_task_flow("f2"))  # one page of two
    sync.poll_backend(backend.pk)
    fake.calls.clear()
    sync.poll_backend(backend.pk)
    assert [c for c in fake.calls if c.startswith("expand")] == ["expand f1"]


def test_a_status_change_expands_only_that_run_and_records_one_transition(fake, backend):
    vendor_with(fake, three_task_flow("f1", Status.SUCCEEDED), three_task_flow("f2"))
    sync.poll_backend(backend.pk)
    vendor_with(fake, three_task_flow("f2", Status.FAILED, failing="f2.b"))
    fake.calls.clear()
    poll = sync.poll_backend(backend.pk)
    assert [c for c in fake.calls if c.startswith("expand")] == ["expand f2"]
    assert poll.changed == 2
    changes = StatusChange.objects.exclude(from_status="")
    assert set(changes.values_list("instance__external_id", "from_status", "to_status")) == {
        ("f2", "RUNNING", "FAILED"),
        ("f2.b", "RUNNING", "FAILED"),
    }
    f2, f1 = Instance.objects.get(external_id="f2"), Instance.objects.get(external_id="f1")
    assert f2.status == Status.FAILED and f2.status_changed_at > f1.status_changed_at


def test_edges_are_replaced_when_the_graph_changes(fake, backend):
    root, kids, _ = three_task_flow("f1")
    vendor_with(fake, (root, kids, [("f1.a", "f1.b")]))
    sync.poll_backend(backend.pk)
    vendor_with(fake, (replace(root, name="renamed"), kids, [("f1.a", "f1.c")]))
    sync.poll_backend(backend.pk)
    assert list(Edge.objects.values_list("upstream__external_id", "downstream__external_id")) == [
        ("f1.a", "f1.c")
    ]


def test_failure_mid_poll_keeps_stored_pages_and_backs_off(fake, backend):
    vendor_with(fake, *(three_task_flow(f"f{n}") for n in range(5)))
    fake.fail_on_page, fake.error = 1, BadPayload("page 2 is not JSON")
    poll = sync.poll_backend(backend.pk)
    assert poll.outcome == Poll.Outcome.ERROR and "not JSON" in poll.error
    assert Instance.objects.roots().count() == 2  # page 1 was committed
    backend.refresh_from_db()
    assert backend.consecutive_failures == 1 and backend.watermark is None
    assert backend.next_poll_at > timezone.now() + timedelta(seconds=backend.poll_interval)
    assert "not JSON" in backend.last_error

    fake.error = None
    poll = sync.poll_backend(backend.pk)
    assert poll.outcome == Poll.Outcome.OK and poll.created == 12
    assert Instance.objects.count() == 20


def test_retry_after_is_honoured(fake, backend):
    vendor_with(fake, three_task_flow("f1"))
    fake.error = RateLimited("429", retry_after=3600)
    sync.poll_backend(backend.pk)
    backend.refresh_from_db()
    assert backend.next_poll_at >= timezone.now() + timedelta(seconds=3500)


def test_a_claimed_backend_is_not_polled_twice(fake, backend):
    now = timezone.now()
    assert scheduling.claim(backend.pk, now)
    assert not scheduling.claim(backend.pk, now)
    assert sync.poll_backend(backend.pk) is None
    assert not Poll.objects.exists()
    assert scheduling.claim(
        backend.pk, now + scheduling.CLAIM_TTL + timedelta(seconds=1)
    )  # claims expire


def test_due_backends_are_reserved_once(fake):
    due = BackendFactory(kind="fake")
    BackendFactory(kind="fake", next_poll_at=timezone.now() + timedelta(minutes=5))
    BackendFactory(kind="fake", enabled=False)
    now = timezone.now()
    assert scheduling.reserve_due_backends(now) == [due.pk]
    assert scheduling.reserve_due_backends(now) == []


def test_running_runs_that_left_the_list_are_refreshed(fake, backend, monkeypatch):
    vendor_with(fake, three_task_flow("old"))
    sync.poll_backend(backend.pk)
    vendor_with(fake, three_task_flow("old", Status.SUCCEEDED))  # the vendor still knows it ...
    monkeypatch.setattr(fake, "iter_pages", lambda self, since: iter(()))  # ... off the list
    poll = sync.poll_backend(backend.pk)
    assert "refresh old" in fake.calls
    assert Instance.objects.get(external_id="old").status == Status.SUCCEEDED
    assert poll.changed == 1


def test_an_unstorable_record_is_skipped_and_counted(fake, backend):
    good, kids, edges = three_task_flow("f1")
    vendor_with(fake, (good, kids, edges), (flow(""), [], []))
    poll = sync.poll_backend(backend.pk)
    assert poll.outcome == Poll.Outcome.PARTIAL and poll.skipped == 1
    assert Instance.objects.filter(external_id="f1").exists()


def test_an_id_repeated_in_one_answer_is_stored_once_at_its_last_word(fake, backend):
    root, kids, edges = three_task_flow("f1", Status.FAILED, failing="f1.b")
    twin = replace(kids[1], status=Status.SUCCEEDED)  # the vendor names one step twice
    vendor_with(fake, (root, [*kids, twin], edges), three_task_flow("f2"))
    poll = sync.poll_backend(backend.pk)
    assert poll.outcome == Poll.Outcome.PARTIAL and poll.skipped == 1
    assert Instance.objects.get(external_id=twin.external_id).status == Status.SUCCEEDED
    assert Instance.objects.filter(external_id__in=["f1", "f2", "f2.a"]).count() == 3


def test_a_run_stored_since_the_pages_snapshot_is_written_again_without_conflict(fake, backend):
    """Two polls that overlapped (a claim lapsed under load): the second read its snapshot
    before the first stored a run, and writes that run, its steps and edges again."""
    root, kids, edges = three_task_flow("f1")
    vendor_with(fake, (root, kids, edges))
    sync.poll_backend(backend.pk)
    records = [replace(root, has_children=True, edges=tuple(edges)), *kids]
    prints = {r.external_id: known.fingerprint(r) + "-moved" for r in records}
    poll = Poll.objects.create(backend=backend, started_at=timezone.now())
    with transaction.atomic():
        writing.upsert(backend, records, prints, {}, poll, timezone.now())  # stale: knew nothing
    stored = Edge.objects.filter(parent__external_id="f1")
    assert set(stored.values_list("upstream__external_id", "downstream__external_id")) == set(edges)


def test_other_backends_are_untouched_by_a_failing_one(fake, backend):
    other = BackendFactory(kind="fake")
    vendor_with(fake, three_task_flow("f1"))
    fake.error = BadPayload("garbage")
    sync.poll_backend(backend.pk)
    fake.error = None
    assert sync.poll_backend(other.pk).outcome == Poll.Outcome.OK
    assert Backend.objects.get(pk=other.pk).consecutive_failures == 0
    assert Backend.objects.get(pk=backend.pk).consecutive_failures == 1


def test_rollups_always_equal_a_recount_of_the_runs(fake, backend):
    vendor_with(fake, three_task_flow("f1"), three_task_flow("f2"), three_task_flow("f3"))
    sync.poll_backend(backend.pk)
    vendor_with(fake, three_task_flow("f2", Status.FAILED, failing="f2.b"))
    root, kids, edges = three_task_flow("f3", Status.SUCCEEDED)
    finished = [
        replace(k, status=Status.SUCCEEDED, finished_at=k.started_at + timedelta(minutes=3))
        for k in kids
    ]
    vendor_with(
        fake, (replace(root, started_at=root.started_at + timedelta(hours=2)), finished, edges)
    )
    sync.poll_backend(backend.pk)
    maintained = {
        (r.backend_id, r.kind, r.top_level, r.definition_id, r.status, r.hour): (
            r.runs,
            r.duration_seconds,
            r.timed_runs,
        )
        for r in Rollup.objects.exclude(runs=0, timed_runs=0)
    }
    assert maintained == rollups.from_runs()
    coarse = {
        (r.backend_id, r.top_level, r.status, r.hour): r.runs
        for r in StatusRollup.objects.exclude(runs=0)
    }
    expected: dict = {}
    for (backend, _, top_level, _, status, hour), (runs, _, _) in maintained.items():
        key = (backend, top_level, status, hour)
        expected[key] = expected.get(key, 0) + runs
    assert coarse == {k: v for k, v in expected.items() if v}
    assert sum(runs for runs, _, _ in maintained.values()) == Instance.objects.count() == 12
    assert rollups.rebuild() == len(maintained)


def test_an_unforeseen_payload_error_is_recorded_like_any_other(fake, backend):
    vendor_with(fake, three_task_flow("f1"))
    fake.error = ValueError("invalid literal for int() with base 10: 'abc'")
    poll = sync.poll_backend(backend.pk)
    assert poll.outcome == Poll.Outcome.ERROR and "unexpected ValueError" in poll.error
    backend.refresh_from_db()
    assert backend.consecutive_failures == 1 and backend.claimed_until is None


def test_unstorable_characters_are_replaced_and_huge_numbers_kept(fake, backend):
    """Text and jsonb cannot hold NUL, UTF-8 cannot hold a lone surrogate (JSON's "\\ud800"),
    and orjson refuses integers beyond 64 bits: a vendor that sends any of them must not stop
    the backend from being stored, poll after poll."""
    root, kids, edges = three_task_flow("f1")
    raw = {"name\x00": "night\x00ly", "nested": ["\ud83d"], "slash": "\\u0000", "big": 2**70}
    root = replace(root, name="night\x00ly", error_message="boom\ud800", raw=raw)
    unstorable_id = flow("f\x00")
    vendor_with(fake, (root, kids, edges), three_task_flow("f2"), (unstorable_id, [], []))
    poll = sync.poll_backend(backend.pk)
    assert poll.outcome == Poll.Outcome.PARTIAL and poll.skipped == 1
    stored = Instance.objects.get(external_id="f1")
    assert stored.name == "night\ufffdly" and stored.error_message == "boom\ufffd"
    assert stored.raw == {
        "name\ufffd": "night\ufffdly",
        "nested": ["\ufffd"],
        "slash": "\\u0000",
        "big": 2**70,
    }
    assert Instance.objects.filter(external_id="f2").exists()


def test_a_failed_runs_signature_is_stored_with_it_and_cleared_when_it_is_rerun(fake, backend):
    root, kids, edges = three_task_flow("f9", Status.FAILED, failing="f9.b")
    kids = [
        replace(k, error_message="ORA-00942: table or view does not exist")
        if k.external_id == "f9.b"
        else k
        for k in kids
    ]
    vendor_with(fake, (root, kids, edges), three_task_flow("f8", Status.SUCCEEDED))
    sync.poll_backend(backend.pk)
    stored = dict(
        Instance.objects.filter(parent__isnull=True).values_list("external_id", "failure_signature")
    )
    assert stored == {"f9": "ORA-00942: table or view does not exist", "f8": None}
    rerun = replace(root, status=Status.SUCCEEDED, raw={"id": "f9", "status": "rerun"})
    vendor_with(fake, (rerun, [replace(k, status=Status.SUCCEEDED) for k in kids], edges))
    sync.poll_backend(backend.pk)
    assert Instance.objects.get(external_id="f9").failure_signature is None

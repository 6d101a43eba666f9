"""What a vendor names its runs can never stop monitoring: a failed run whose name is 100 KB
with newlines is stored, the backend keeps being polled, and its alert fires, fitted to its
columns, and reaches the on-call's inbox."""

from dataclasses import replace
from email.header import decode_header, make_header

import pytest

from instances.alerts import delivery
from instances.alerts.models import Alert
from instances.models import Backend, Instance, Poll, Status
from tests.alerts.test_lifecycle import rule_for, vendor_run
from tests.pipeline.fake import FakeConnector, flow

pytestmark = pytest.mark.django_db


def test_a_100_kb_name_with_newlines_is_stored_polled_again_alerted_and_mailed(backend, receivers):
    web, smtp = receivers
    rule_for(backend, web)
    vendor_run("1", Status.FAILED)
    huge = "nightly\norders\r\n" + "名" * 100_000
    root, steps, edges = FakeConnector.vendor["1"]
    FakeConnector.vendor["1"] = (replace(root, name=huge, definition_name=huge), steps, edges)

    first = sync_poll(backend)
    assert first.outcome == Poll.Outcome.OK
    assert Instance.objects.get(backend=backend, external_id="1").name == huge[:500]
    alert = Alert.objects.get()
    assert len(alert.title) <= Alert._meta.get_field("title").max_length
    assert "\n" not in alert.title and alert.title.startswith("nightly orders 名")

    FakeConnector.vendor["2"] = (flow("2", Status.RUNNING), [], [])
    second = sync_poll(backend)
    assert second.outcome == Poll.Outcome.OK
    assert Instance.objects.filter(backend=backend, external_id="2").exists()
    assert Backend.objects.get(pk=backend.pk).observer_failures == 0

    assert delivery.deliver_due() == 2
    (mail,) = smtp.messages
    subject = str(make_header(decode_header(mail["Subject"])))
    assert subject.startswith("[FIRING] nightly orders 名") and len(subject) <= 200
    assert "\n" not in subject and len(web.received) == 1


def test_an_observer_that_raises_is_counted_and_the_page_is_stored_all_the_same(
    backend, monkeypatch, admin_client
):
    from instances import observers

    def broken(backend, transitions, now):
        Alert.objects.create()  # a write that fails inside the observer's savepoint
        raise AssertionError("unreachable")

    monkeypatch.setattr(observers, "OBSERVERS", [broken])
    FakeConnector.vendor["9"] = (flow("9", Status.FAILED), [], [])
    poll = sync_poll(backend)
    assert poll.outcome == Poll.Outcome.OK
    assert Instance.objects.get(backend=backend, external_id="9").status == Status.FAILED
    backend.refresh_from_db()
    assert backend.observer_failures == 1 and "IntegrityError" in backend.last_observer_error
    page = admin_client.get("/backends/").content.decode()
    assert "Alerting failed on 1 stored page (the runs were stored)" in page


def sync_poll(backend) -> Poll:
    from instances import sync

    poll = sync.poll_backend(backend.pk)
    assert poll is not None
    Backend.objects.filter(pk=backend.pk).update(claimed_until=None, next_poll_at=None)
    return poll

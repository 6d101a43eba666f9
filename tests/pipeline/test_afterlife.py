"""A run that ended is not final: on-call retries a failed run in the vendor's console hours
later, and Runboard sees it within 2 polls, with its whole history, out of the failure inbox
— for every API whose list would never show the old run again."""

import httpx
import pytest

from instances import sync
from instances.management.commands.demo_setup import demo_backends
from instances.models import Backend, Instance, Status, StatusChange

pytestmark = pytest.mark.django_db


def poll(backend: Backend) -> None:
    Backend.objects.filter(pk=backend.pk).update(claimed_until=None)
    assert sync.poll_backend(backend.pk).outcome == "ok"


@pytest.mark.parametrize(
    "kind", ["ocp", "enos_batch_v21", "enos_dataflow_v20", "dataarts_factory", "airflow"]
)
def test_a_failed_run_retried_in_place_hours_later_is_seen_within_two_polls(kind, emulator):
    backend, secrets = next((b, s) for b, s in demo_backends() if b.kind == kind)
    backend.base_url, backend.credentials = emulator.base_url, secrets
    backend.save()
    poll(backend)
    failed = (
        Instance.objects.filter(backend=backend, parent__isnull=True, status=Status.FAILED)
        .order_by("run_at")
        .first()
    )
    assert failed is not None and failed.run_at < backend.instances.latest("run_at").run_at
    httpx.post(
        f"{emulator.base_url}/_emulator/runs/{kind}/{failed.external_id}/status",
        json={"status": "succeeded"},
    ).raise_for_status()  # the vendor's retry in place: same run, now succeeded
    for _ in range(2):
        poll(backend)
    failed.refresh_from_db()
    assert failed.status == Status.SUCCEEDED and failed.failure_signature is None
    history = list(
        StatusChange.objects.filter(instance=failed)
        .order_by("observed_at", "id")
        .values_list("from_status", "to_status")
    )
    assert history[-1] == (Status.FAILED, Status.SUCCEEDED) and history[0][0] == ""


@pytest.mark.parametrize(
    "kind",
    [
        "ocp",
        "enos_batch_v21",
        "enos_dataflow_v20",
        "dataarts_factory",
        "dataarts_datamap",
        "airflow",
    ],
)
def test_a_finished_run_deleted_on_the_vendor_is_gone_within_two_polls(kind, emulator):
    backend, secrets = next((b, s) for b, s in demo_backends() if b.kind == kind)
    backend.base_url, backend.credentials = emulator.base_url, secrets
    backend.save()
    poll(backend)
    finished = Instance.objects.filter(
        backend=backend, parent__isnull=True, status__in=[Status.FAILED, Status.SUCCEEDED]
    )
    # what a poll reads again: failed runs of the week, any run of the last hour
    deleted = (
        finished.filter(status=Status.FAILED).order_by("run_at").first()
        or finished.order_by("-run_at").first()
    )
    assert deleted is not None
    httpx.post(
        f"{emulator.base_url}/_emulator/runs/{kind}/{deleted.external_id}/delete"
    ).raise_for_status()
    for _ in range(2):
        poll(backend)
    deleted.refresh_from_db()
    assert deleted.gone_at is not None and deleted.status in (Status.FAILED, Status.SUCCEEDED)

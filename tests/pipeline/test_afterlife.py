"""A run that ended is not final: on-call retries a failed run in the vendor's console hours
later, and Runboard sees it within 2 polls, with its whole history, out of the failure inbox
— for every API whose list would never show the old run again."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from instances import sync
from instances.alerts.evaluate import failed_run
from instances.alerts.models import Alert, AlertRule
from instances.emulator.runner import run_emulator
from instances.failures import culprit_steps
from instances.management.commands.demo_setup import demo_backends
from instances.models import Backend, Instance, Status, StatusChange
from tests.factories import GroupFactory, UserFactory

pytestmark = pytest.mark.django_db


def poll(backend: Backend) -> None:
    Backend.objects.filter(pk=backend.pk).update(claimed_until=None)
    assert sync.poll_backend(backend.pk).outcome == "ok"


@pytest.mark.parametrize(
    "kind", ["ocp", "enos_batch_v21", "enos_dataflow_v20", "dataarts_factory", "airflow"]
)
def test_a_failed_run_retried_in_place_hours_later_is_seen_within_two_polls(kind, emulator, client):
    backend, secrets = next((b, s) for b, s in demo_backends() if b.kind == kind)
    backend.base_url, backend.credentials = emulator.base_url, secrets
    backend.team = GroupFactory()
    backend.save()
    client.force_login(UserFactory(teams=[backend.team]))
    poll(backend)
    failed = (
        Instance.objects.filter(backend=backend, parent__isnull=True, status=Status.FAILED)
        .order_by("run_at")
        .first()
    )
    assert failed is not None and failed.run_at < backend.instances.latest("run_at").run_at
    # the alert it opened when it failed (hours before this first poll, so opened here)
    rule = AlertRule.objects.create(team=backend.team, name="failures", kind="failed")
    failed_run(rule, backend, failed, culprit_steps([failed]).get(failed.pk), timezone.now())
    alert = Alert.objects.get(run=failed)
    assert alert.state == Alert.State.FIRING
    in_inbox = failed_in_inbox(client, failed)
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
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED
    assert failed_in_inbox(client, failed) == in_inbox - 1


@pytest.mark.parametrize("kind", ["ocp", "airflow"])
def test_a_step_retried_in_place_keeps_each_try_with_its_own_error(kind, emulator):
    backend, secrets = next((b, s) for b, s in demo_backends() if b.kind == kind)
    backend.base_url, backend.credentials = emulator.base_url, secrets
    backend.save()
    poll(backend)
    step = (
        Instance.objects.filter(backend=backend, parent__status=Status.FAILED, status=Status.FAILED)
        .exclude(error_message="")
        .order_by("run_at")
        .first()
    )
    assert step is not None and step.attempts
    first_error, first_tries = step.error_message, step.attempts
    httpx.post(
        f"{emulator.base_url}/_emulator/runs/{kind}/{step.parent.external_id}/status",
        json={"status": "succeeded"},
    ).raise_for_status()  # retried in place: the failed step runs once more, and succeeds
    for _ in range(2):
        poll(backend)
    step.refresh_from_db()
    assert (step.status, step.attempts, step.error_message) == (
        Status.SUCCEEDED,
        first_tries + 1,
        "",
    )
    earlier = step.tries.get(number=first_tries)
    assert (earlier.status, earlier.error_message) == (Status.FAILED, first_error)


def failed_in_inbox(client, run: Instance) -> int:
    """How many failed runs the failure inbox counts in this run's group."""
    page = client.get("/failures/", {"window": "30d"})
    return sum(
        group["count"]
        for group in page.context["groups"]
        if (group["backend"].pk, group["definition_id"]) == (run.backend_id, run.definition_id)
    )


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


def test_the_default_scenario_retries_and_deletes_runs_by_itself_within_the_demos_first_hour():
    """The demo's world (seed 1, as scripts/run.sh starts it) changes runs after they end with
    nobody driving it: within its first hour a failed run is retried in place and turns green
    in Runboard, and a finished run is deleted and marked gone."""
    backends = []
    with run_emulator(seed=1, speed=0) as emulator:
        for backend, secrets in demo_backends():
            backend.base_url = emulator.base_url + backend.base_url
            backend.credentials = secrets
            backend.save()
            backends.append(backend)
            poll(backend)
        failed_before = set(
            Instance.objects.filter(parent__isnull=True, status=Status.FAILED).values_list(
                "pk", flat=True
            )
        )
        for _ in range(6):  # an hour, polled every ten minutes
            emulator.scenario.advance(timedelta(minutes=10).total_seconds())
            for backend in backends:
                poll(backend)
    retried = Instance.objects.filter(pk__in=failed_before, status=Status.SUCCEEDED)
    assert retried.exists()
    assert StatusChange.objects.filter(
        instance__in=retried, from_status=Status.FAILED, to_status=Status.SUCCEEDED
    ).exists()
    assert Instance.objects.filter(parent__isnull=True, gone_at__isnull=False).exists()

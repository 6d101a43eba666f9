"""The names runs have had (instances.models.RunName), which a search by part of a name
reads first, are kept by PostgreSQL on every write of a run, whoever writes it."""

import pytest
from django.db import connection

from instances.models import Instance, RunName
from tests.factories import BackendFactory, InstanceFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL keeps the names"),
]


def names(backend) -> set[str]:
    return set(RunName.objects.filter(backend=backend).values_list("name", flat=True))


def test_a_name_is_kept_however_its_run_is_written():
    backend = BackendFactory()
    InstanceFactory(backend=backend, name="created")
    Instance.objects.bulk_create(
        [InstanceFactory.build(backend=backend, name=f"bulk {n % 2}") for n in range(4)]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO instances_instance (backend_id, external_id, kind, name, "
            "definition_id, definition_name, status, vendor_status, flags, run_at, owner, "
            "executor, cycle, log_locator, error_message, fingerprint, first_seen, last_seen, "
            "status_changed_at, updated_at) SELECT backend_id, external_id || '-copy', kind, "
            "'copied', definition_id, definition_name, status, vendor_status, flags, run_at, "
            "owner, executor, cycle, log_locator, error_message, fingerprint, first_seen, "
            "last_seen, status_changed_at, updated_at FROM instances_instance "
            "WHERE backend_id = %s",
            [backend.pk],
        )
    assert names(backend) == {"created", "bulk 0", "bulk 1", "copied"}
    assert not RunName.objects.filter(backend=backend, step=True).exists()


def test_a_steps_name_is_kept_as_a_steps():
    backend = BackendFactory()
    flow = InstanceFactory(backend=backend, name="load")
    InstanceFactory(backend=backend, parent=flow, name="load")
    kept = RunName.objects.filter(backend=backend).values_list("name", "step")
    assert sorted(kept) == [("load", False), ("load", True)]


def test_a_renamed_run_keeps_its_new_name_and_its_old_one_stays_harmless():
    backend = BackendFactory()
    run = InstanceFactory(backend=backend, name="before")
    Instance.objects.filter(pk=run.pk).update(name="after")
    Instance.objects.filter(pk=run.pk).update(status="FAILED")  # no new name: nothing kept
    assert names(backend) == {"before", "after"}
    assert RunName.objects.filter(backend=backend).count() == 2


def test_names_go_with_their_backend():
    backend = BackendFactory()
    InstanceFactory(backend=backend, name="gone soon")
    backend.delete()
    assert not RunName.objects.filter(name="gone soon").exists()

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError

from instances.models import Backend, Instance, Status
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_external_id_is_unique_per_backend():
    run = InstanceFactory(external_id="2430-20190718075000")
    with pytest.raises(IntegrityError):
        InstanceFactory(backend=run.backend, external_id="2430-20190718075000")


def test_same_external_id_may_exist_on_two_backends():
    InstanceFactory(external_id="13000335")
    InstanceFactory(external_id="13000335")
    assert Instance.objects.filter(external_id="13000335").count() == 2


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        (Status.PENDING, False),
        (Status.RUNNING, False),
        (Status.UNKNOWN, False),
        (Status.SUCCEEDED, True),
        (Status.FAILED, True),
        (Status.CANCELED, True),
        (Status.SKIPPED, True),
    ],
)
def test_is_terminal(status, terminal):
    assert status.is_terminal is terminal


def test_every_status_has_an_icon():
    assert all(status.icon for status in Status)


def test_credentials_round_trip_encrypted_at_rest():
    backend = BackendFactory()
    backend.credentials = {"app_key": "ak-1234567890", "app_secret": "sk-abcdefghijkl"}
    backend.save()
    stored = Backend.objects.values_list("credentials_encrypted", flat=True).get(pk=backend.pk)
    assert "sk-abcdefghijkl" not in stored
    assert Backend.objects.get(pk=backend.pk).credentials == {
        "app_key": "ak-1234567890",
        "app_secret": "sk-abcdefghijkl",
    }


def test_credentials_are_only_shown_masked():
    backend = BackendFactory()
    backend.credentials = {"app_secret": "sk-abcdefghijkl", "pin": "1234"}
    masked = backend.masked_credentials
    assert masked["app_secret"] == "sk••••••kl"
    assert masked["pin"] == "••••"


def test_admin_never_renders_the_secret(admin_client):
    backend = BackendFactory()
    backend.credentials = {"app_secret": "sk-abcdefghijkl"}
    backend.save()
    page = admin_client.get(f"/admin/instances/backend/{backend.pk}/change/")
    assert page.status_code == 200
    assert b"sk-abcdefghijkl" not in page.content
    assert "sk••••••kl" in page.content.decode()


def test_credentials_under_another_key_fail_loudly(settings):
    backend = BackendFactory()
    backend.credentials = {"app_secret": "x"}
    settings.CREDENTIALS_KEY = "another key"
    with pytest.raises(ValueError, match="CREDENTIALS_KEY"):
        _ = backend.credentials


def test_team_member_sees_only_team_runs():
    mine, theirs = InstanceFactory(), InstanceFactory()
    member = UserFactory(teams=[mine.backend.team])
    assert list(Instance.objects.visible_to(member)) == [mine]
    assert list(Backend.objects.visible_to(member)) == [mine.backend]
    assert theirs not in Instance.objects.visible_to(member)


def test_outsider_sees_nothing():
    InstanceFactory()
    outsider = UserFactory()
    assert not Instance.objects.visible_to(outsider).exists()
    assert not Backend.objects.visible_to(outsider).exists()
    assert not Instance.objects.visible_to(AnonymousUser()).exists()


def test_superuser_sees_everything():
    InstanceFactory(), InstanceFactory()
    root = UserFactory(is_superuser=True)
    assert Instance.objects.visible_to(root).count() == 2
    assert Backend.objects.visible_to(root).count() == 2

"""A backend's time zone is an IANA name wherever a backend is written, and a bad one stored
before that rule never breaks a page."""

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from instances.models import Backend, Status
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db
TYPO = "Asia/Shangai"


def test_the_backends_file_refuses_an_unknown_zone(tmp_path):
    path = tmp_path / "backends.toml"
    path.write_text(
        f'[[backend]]\nname = "ocp"\nkind = "ocp"\nbase_url = "http://ocp:8080"\n'
        f'timezone = "{TYPO}"\n'
    )
    with pytest.raises(CommandError, match="line 1: timezone 'Asia/Shangai' is not an IANA"):
        call_command("load_backends", str(path))
    assert not Backend.objects.exists()


def test_the_admin_refuses_an_unknown_zone(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    form = {
        "name": "ocp",
        "kind": "ocp",
        "base_url": "https://ocp.example.com",
        "scope": "{}",
        "timezone": TYPO,
        "poll_interval": 30,
        "enabled": "on",
    }
    reply = client.post("/admin/instances/backend/add/", form)
    assert reply.status_code == 200  # the form again, with the error
    assert "&#x27;Asia/Shangai&#x27; is not an IANA time zone name" in reply.content.decode()
    assert not Backend.objects.exists()
    saved = client.post("/admin/instances/backend/add/", form | {"timezone": "Asia/Shanghai"})
    assert saved.status_code == 302, saved.context["adminform"].form.errors


def test_pages_never_fail_on_a_zone_stored_before_validation(client):
    backend = BackendFactory()
    Backend.objects.filter(pk=backend.pk).update(timezone=TYPO)  # as an old row could hold
    flow = InstanceFactory(backend=backend, status=Status.FAILED, started_at=timezone.now())
    client.force_login(UserFactory(teams=[backend.team]))
    for url in ("/runs/", f"/runs/{flow.pk}/", "/failures/", "/"):
        assert client.get(url).status_code == 200, url
    # the times are still shown, in the reader's zone and UTC
    listed = client.get("/runs/").content.decode()
    assert f'<time datetime="{flow.started_at.isoformat()}"' in listed

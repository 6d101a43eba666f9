"""Staff with view permissions see in the admin exactly what the pages show them: their
teams' backends, runs, polls, history and edges, never another team's."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from instances.models import Edge, Poll, StatusChange
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db
MODELS = ("backend", "instance", "poll", "statuschange", "edge")


def world(backend, name):
    flow = InstanceFactory(backend=backend, name=f"{name} flow")
    a = InstanceFactory(backend=backend, parent=flow, name=f"{name} step a")
    b = InstanceFactory(backend=backend, parent=flow, name=f"{name} step b")
    edge = Edge.objects.create(parent=flow, upstream=a, downstream=b)
    change = StatusChange.objects.create(
        instance=flow, to_status="FAILED", observed_at=timezone.now()
    )
    poll = Poll.objects.create(backend=backend, started_at=timezone.now())
    return {
        "backend": backend,
        "instance": flow,
        "poll": poll,
        "statuschange": change,
        "edge": edge,
    }


@pytest.fixture
def staff(client):
    ours = world(BackendFactory(name="ours-backend"), "ours")
    theirs = world(BackendFactory(name="theirs-backend"), "theirs")
    user = UserFactory(is_staff=True, teams=[ours["backend"].team])
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=[f"view_{model}" for model in MODELS])
    )
    client.force_login(user)
    return ours, theirs


@pytest.mark.parametrize("model", MODELS)
def test_lists_and_filters_show_only_the_teams_rows(client, staff, model):
    ours, theirs = staff
    body = client.get(f"/admin/instances/{model}/").content.decode()
    assert f"/admin/instances/{model}/{ours[model].pk}/change/" in body
    assert f"/admin/instances/{model}/{theirs[model].pk}/change/" not in body
    assert "theirs" not in body  # not in rows, nor in a filter's choices


@pytest.mark.parametrize("model", MODELS)
def test_another_teams_row_is_not_found(client, staff, model):
    ours, theirs = staff
    assert client.get(f"/admin/instances/{model}/{ours[model].pk}/change/").status_code == 200
    # the admin redirects to its index with "does not exist" rather than show it
    reply = client.get(f"/admin/instances/{model}/{theirs[model].pk}/change/", follow=True)
    assert "doesn’t exist" in reply.content.decode()
    assert "theirs" not in reply.content.decode()

"""Backends on the emulator that may act, a team with a person of each role, and a way to
follow an action (what the worker does) without a broker."""

import time

import pytest
from django.contrib.auth.models import Group

from instances import sync
from instances.acting import following, perform
from instances.acting.models import Action
from instances.management.commands.demo_setup import demo_backends
from instances.models import Backend
from instances.people import roles
from instances.people.models import Role
from tests.factories import UserFactory


@pytest.fixture
def ops_team(db):
    return Group.objects.create(name="Data ops")


@pytest.fixture
def people(ops_team):
    found = {}
    for role in Role:
        person = UserFactory(username=f"{role.value}-person")
        roles.place(person, ops_team, role)
        found[role.value] = person
    return found


@pytest.fixture(autouse=True)
def _followed_by_the_test(monkeypatch):
    """Here the tests follow actions themselves (follow()); tests/browser has a worker."""
    monkeypatch.setattr(perform, "follow_soon", lambda action: None)


@pytest.fixture
def on_emulator(emulator, ops_team):
    """backend(kind, name=None) → a saved backend of that API on the emulator, polled once."""

    def backend(kind: str, name: str = "") -> Backend:
        found, secrets = next(
            (b, s) for b, s in demo_backends() if b.kind == kind and name in b.name
        )
        found.base_url = emulator.base_url + found.base_url
        found.team, found.may_act = ops_team, True
        found.credentials = secrets
        found.save()
        poll(found)
        return found

    return backend


def poll(backend: Backend) -> None:
    Backend.objects.filter(pk=backend.pk).update(claimed_until=None)
    done = sync.poll_backend(backend.pk)
    assert done is not None and done.outcome in ("ok", "partial"), Backend.objects.get(
        pk=backend.pk
    ).last_error


def follow(action: Action, seconds: float = 20) -> Action:
    """What the worker's follow_action does, until the action ends or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while following.follow(action.pk) is not None:
        assert time.monotonic() < deadline, "the action was still in flight"
    action.refresh_from_db()
    return action

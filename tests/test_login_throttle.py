"""Password guessing: failed logins lock the username and the address (django-axes), the right
password no longer helps, and an administrator unlocks from the admin."""

import pytest
from axes.models import AccessAttempt

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def log_in(client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_guessing_locks_the_username_and_the_address(client, settings):
    UserFactory(username="alice", password="right-password")
    UserFactory(username="bob", password="bobs-password")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "alice", "guess").status_code == 200  # the form, with an error
    locked = log_in(client, "alice", "guess")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert log_in(client, "alice", "right-password").status_code == 429  # too late
    # locked per username: from another address too
    assert log_in(client, "alice", "right-password", "198.51.100.1").status_code == 429
    # and per address: another account from the guessing address
    assert log_in(client, "bob", "bobs-password").status_code == 429
    # a bystander elsewhere logs in as usual
    assert log_in(client, "bob", "bobs-password", "198.51.100.2").status_code == 302


def test_an_administrator_unlocks_from_the_admin(client, settings):
    UserFactory(username="alice", password="right-password")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "alice", "guess")
    assert log_in(client, "alice", "right-password").status_code == 429

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    attempts = client.get("/admin/axes/accessattempt/")
    assert attempts.status_code == 200 and "alice" in attempts.content.decode()
    for attempt in AccessAttempt.objects.all():
        reply = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
        assert reply.status_code == 302
    client.logout()

    assert log_in(client, "alice", "right-password").status_code == 302

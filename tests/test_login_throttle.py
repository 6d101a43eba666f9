"""Password guessing: failed logins lock a username from that address (django-axes), the right
password no longer helps there, nobody else is locked out by it, an address that sprays many
usernames is locked whole past a higher limit, and an administrator unlocks from the admin."""

import pytest
from axes.models import AccessAttempt

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def log_in(client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_guessing_locks_the_username_from_that_address_and_no_bystander(client, settings):
    UserFactory(username="alice", password="right-password")
    UserFactory(username="bob", password="bobs-password")
    for _ in range(settings.RUNBOARD_LOGIN_FAILURES - 1):
        assert log_in(client, "alice", "guess").status_code == 200  # the form, with an error
    locked = log_in(client, "alice", "guess")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert log_in(client, "alice", "right-password").status_code == 429  # too late
    # a bystander: alice from her usual address is not locked out by the guesser
    assert log_in(client, "alice", "right-password", "198.51.100.1").status_code == 302
    # nor is bob, behind the same address as the guesser (one office, one NAT)
    assert log_in(client, "bob", "bobs-password").status_code == 302


def test_another_users_login_does_not_reset_the_guessers_count(client, settings):
    UserFactory(username="alice", password="right-password")
    UserFactory(username="bob", password="bobs-password")
    for _ in range(settings.RUNBOARD_LOGIN_FAILURES - 1):
        log_in(client, "bob", "guess")
    assert log_in(client, "alice", "right-password").status_code == 302
    client.logout()
    for _ in range(settings.RUNBOARD_LOGIN_FAILURES - 1):
        log_in(client, "bob", "guess")
    assert log_in(client, "bob", "bobs-password").status_code == 429  # 8 failures, locked


def test_spraying_many_usernames_from_one_address_locks_the_address(client, settings):
    settings.RUNBOARD_LOGIN_ADDRESS_FAILURES = 12
    UserFactory(username="alice", password="right-password")
    for n in range(6):
        for _ in range(2):  # under each username's own limit
            log_in(client, f"user{n}", "Summer2026!")
    assert log_in(client, "alice", "right-password").status_code == 429
    assert log_in(client, "alice", "right-password", "198.51.100.1").status_code == 302


def test_an_administrator_unlocks_from_the_admin(client, settings):
    UserFactory(username="alice", password="right-password")
    for _ in range(settings.RUNBOARD_LOGIN_FAILURES):
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

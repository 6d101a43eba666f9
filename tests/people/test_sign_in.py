"""Signing in through a real OpenID provider run here (tests/people/openid.py): a person's
first sign-in creates them in their mapped team and role, the groups claim moves them at
the next, a token wrong in any one way is refused, a replayed callback does nothing, and
logout ends both sessions."""

import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import User

from dashboard import sign_in
from instances.people.models import Membership, MembershipChange
from tests.people import openid
from tests.test_settings import load_settings

pytestmark = pytest.mark.django_db(transaction=True)
ANA = {"email": "ana@example.com", "email_verified": True, "name": "Ana"}


def roles_of(email: str) -> dict[str, str]:
    return dict(Membership.objects.filter(user__email=email).values_list("team__name", "role"))


def test_a_first_sign_in_creates_the_person_in_their_mapped_team_and_role(client, company):
    company.claims(ana={**ANA, "groups": ["data-ops-oncall", "data-ops", "unmapped"]})
    with httpx.Client() as browser:
        answer = openid.sign_in_as(client, browser, "ana")
    assert answer.status_code == 302 and answer["location"] == "/", answer
    assert client.get("/").status_code == 200
    ana = User.objects.get(email="ana@example.com")
    assert ana.username == "ana@example.com" and ana.first_name == "Ana"
    assert roles_of("ana@example.com") == {"Data ops": "operator"}  # the highest mapped
    joined = MembershipChange.objects.get(person=ana)
    assert (joined.what, joined.role, joined.by) == ("joined", "operator", None)


def test_a_changed_groups_claim_changes_the_role_at_the_next_sign_in(client, company):
    for groups, expected in (
        (["data-ops"], {"Data ops": "viewer"}),
        (["data-ops-leads", "finance"], {"Data ops": "admin", "Finance": "viewer"}),
        (["finance"], {"Finance": "viewer"}),
    ):
        company.claims(ana={**ANA, "groups": groups})
        client.logout()
        with httpx.Client() as browser:  # a fresh provider session: the claims are read anew
            assert openid.sign_in_as(client, browser, "ana")["location"] == "/"
        assert roles_of("ana@example.com") == expected, groups


def test_a_team_given_in_runboard_stays_when_the_provider_sends_no_groups(client, company):
    company.claims(ana=ANA)
    with httpx.Client() as browser:
        openid.sign_in_as(client, browser, "ana")
    ana = User.objects.get(email="ana@example.com")
    assert roles_of("ana@example.com") == {}
    from instances.people import roles
    from tests.factories import GroupFactory

    roles.place(ana, GroupFactory(name="Given here"), "operator")
    client.logout()
    with httpx.Client() as browser:
        openid.sign_in_as(client, browser, "ana")
    assert roles_of("ana@example.com") == {"Given here": "operator"}


def test_an_unverified_email_is_refused(client, company):
    company.claims(ana={**ANA, "email_verified": False})
    with httpx.Client() as browser:
        answer = openid.sign_in_as(client, browser, "ana")
    assert answer["location"] == "/login/"
    assert not User.objects.filter(email="ana@example.com").exists()
    assert client.get("/").status_code == 302


def test_a_replayed_callback_signs_nobody_in(client, company):
    company.claims(ana={**ANA, "groups": ["data-ops"]})
    with httpx.Client() as browser:
        start = client.get("/login/company/")
        back = openid.through_provider(browser, start["location"], "ana")
    assert client.get(openid.local(back))["location"] == "/"
    client.logout()
    replayed = client.get(openid.local(back))
    assert replayed["location"] == "/login/"
    assert client.get("/").status_code == 302  # still nobody


def test_an_id_token_wrong_in_any_one_way_is_refused(company):
    backend = sign_in.Provider()
    backend.OIDC_OP_JWKS_ENDPOINT = sign_in.discovered()["jwks_uri"]  # the real provider's keys
    now = int(time.time())
    good = {
        "iss": company.issuer,
        "aud": openid.CLIENT_ID,
        "sub": "ana",
        "iat": now,
        "exp": now + 300,
        "nonce": "n",
    }
    assert backend.verify_token(company.sign(good), nonce="n")["sub"] == "ana"
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for wrong in (
        company.sign({**good, "aud": "another-app"}),
        company.sign({**good, "iss": "http://127.0.0.1:1"}),
        company.sign({**good, "exp": now - 60}),
        company.sign({key: value for key, value in good.items() if key != "exp"}),
        company.sign(good, key=other_key),
    ):
        with pytest.raises(sign_in.SuspiciousOperation):
            backend.verify_token(wrong, nonce="n")
    with pytest.raises(sign_in.SuspiciousOperation):  # a token from another sign-in
        backend.verify_token(company.sign(good), nonce="another")


def test_logout_ends_the_runboard_session_and_the_providers(client, company):
    company.claims(ana={**ANA, "groups": ["data-ops"]})
    with httpx.Client() as browser:
        openid.sign_in_as(client, browser, "ana")
        out = client.post("/logout/")
        assert out.status_code == 302 and out["location"].startswith(company.issuer), out
        assert "id_token_hint=" in out["location"]
        assert client.get("/").status_code == 302
        back = openid.through_provider(browser, out["location"], "ana")
        assert openid.local(back) == "/login/"
        # the provider's session is over: it asks who you are again
        again = browser.get(client.get("/login/company/")["location"], follow_redirects=True)
        assert 'name="login"' in again.text


def test_password_login_switched_off_leaves_only_the_provider(client, company, settings):
    """RUNBOARD_PASSWORD_LOGIN=false takes the password backend out (dashboard/settings.py)
    and the form off the login page: a right password signs nobody in."""
    settings.RUNBOARD_PASSWORD_LOGIN = False
    settings.AUTHENTICATION_BACKENDS = [
        backend
        for backend in settings.AUTHENTICATION_BACKENDS
        if backend != "django.contrib.auth.backends.ModelBackend"
    ]
    User.objects.create_user("root", password="a long passphrase 42", is_superuser=True)
    page = client.get("/login/").text
    assert 'name="password"' not in page and "Sign in with" in page
    client.post("/login/", {"username": "root", "password": "a long passphrase 42"})
    assert client.get("/").status_code == 302  # still signed out


def test_the_environment_chooses_the_sign_in_backends():
    probe = "from django.conf import settings as s; print(','.join(s.AUTHENTICATION_BACKENDS))"
    both = load_settings(DEBUG="1", RUNBOARD_OIDC_ISSUER="https://id.example.com", code=probe)
    provider_only = load_settings(
        DEBUG="1",
        RUNBOARD_OIDC_ISSUER="https://id.example.com",
        RUNBOARD_PASSWORD_LOGIN="false",
        code=probe,
    )
    assert both.stdout.split(",")[1:] == [
        "django.contrib.auth.backends.ModelBackend",
        "dashboard.sign_in.Provider\n",
    ]
    assert provider_only.stdout.split(",")[1:] == ["dashboard.sign_in.Provider\n"]

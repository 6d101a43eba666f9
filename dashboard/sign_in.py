"""Sign-in through the company's OpenID provider (mozilla-django-oidc, the code flow with
PKCE), configured by RUNBOARD_OIDC_* settings: the provider's endpoints are discovered from
its issuer at the first sign-in. A person's teams and roles follow the groups claim, mapped
by RUNBOARD_OIDC_TEAMS, at every sign-in; a provider that sends no groups leaves them to be
assigned in Runboard."""

import functools
import logging
from urllib.parse import urlencode

import httpx
import jwt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation
from django.urls import reverse
from django.utils.translation import gettext as _
from mozilla_django_oidc import auth, views
from requests import RequestException

from instances.people import roles
from instances.people.models import RANKS, Role

log = logging.getLogger(__name__)


@functools.cache
def discovered() -> dict:
    """The provider's discovery document (a failure is not kept: the next sign-in asks)."""
    issuer = settings.RUNBOARD_OIDC_ISSUER.rstrip("/")
    found = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).raise_for_status()
    document = found.json()
    if document.get("issuer", "").rstrip("/") != issuer:
        raise SuspiciousOperation(f"The provider at {issuer} calls itself {document.get('issuer')}")
    return document


class Provider(auth.OIDCAuthenticationBackend):
    """Signs a person in from the provider's ID token, checked in full (signature, issuer,
    audience, expiry, nonce), and keeps their teams to the groups claim."""

    def __init__(self, *args, **kwargs):  # endpoints are discovered at sign-in, not here
        self.UserModel = auth.get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request, **kwargs):
        if not settings.RUNBOARD_OIDC_ISSUER or request is None or "code" not in request.GET:
            return None
        try:
            found = discovered()
            self.OIDC_OP_TOKEN_ENDPOINT = found["token_endpoint"]
            self.OIDC_OP_USER_ENDPOINT = found["userinfo_endpoint"]
            self.OIDC_OP_JWKS_ENDPOINT = found["jwks_uri"]
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, RequestException, httpx.HTTPError, KeyError) as exc:
            log.warning("Sign-in through %s refused: %s", settings.RUNBOARD_OIDC_ISSUER, exc)
            messages.error(request, _("Sign-in through your company's account was refused."))
            return None

    def get_payload_data(self, token, key):
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=discovered()["issuer"],
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc

    def verify_claims(self, claims):
        return bool(claims.get("email")) and claims.get("email_verified") is not False

    def create_user(self, claims):
        user = self.UserModel.objects.create_user(claims["email"], email=claims["email"])
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        user.first_name = str(claims.get("name", ""))[:150]
        user.save(update_fields=["first_name"])
        keep_teams(user, claims)
        return user


def keep_teams(user, claims: dict) -> None:
    """The person's teams and roles as the groups claim maps them (their highest role in
    each team); memberships the provider gave and no longer does end. Without the claim,
    nothing changes: teams are then assigned in Runboard."""
    groups = claims.get(settings.RUNBOARD_OIDC_GROUPS_CLAIM)
    if not isinstance(groups, list):
        return
    wanted: dict[str, Role] = {}
    for group in map(str, groups):
        if mapped := settings.RUNBOARD_OIDC_TEAMS.get(group):
            team, role = mapped
            if role not in RANKS:
                log.error("RUNBOARD_OIDC_TEAMS maps %s to the unknown role %r", group, role)
            elif team not in wanted or RANKS[role] > RANKS[wanted[team]]:
                wanted[team] = Role(role)
    for held in user.memberships.filter(from_provider=True).select_related("team"):
        if held.team.name not in wanted:
            roles.place(user, held.team, None)
    for name, role in wanted.items():
        roles.place(user, Group.objects.get_or_create(name=name)[0], role, from_provider=True)


class SignIn(views.OIDCAuthenticationRequestView):
    """Sends the person to the provider, with state, nonce and a PKCE challenge."""

    def __init__(self, *args, **kwargs):
        views.View.__init__(self, *args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        try:
            self.OIDC_OP_AUTH_ENDPOINT = discovered()["authorization_endpoint"]
        except (httpx.HTTPError, KeyError, SuspiciousOperation) as exc:
            log.error("OpenID provider %s unreachable: %s", settings.RUNBOARD_OIDC_ISSUER, exc)
            messages.error(request, _("Your company's sign-in cannot be reached. Try again soon."))
            return views.HttpResponseRedirect(reverse("login"))
        return super().get(request)


def end_session_url(request) -> str:
    """Where logout goes: the provider's end-session endpoint, when it has one and the
    person signed in through it (back to Runboard's login page after), else the login page."""
    back = request.build_absolute_uri(reverse("login"))
    id_token = request.session.get("oidc_id_token")
    try:
        endpoint = discovered().get("end_session_endpoint") if id_token else None
    except (httpx.HTTPError, SuspiciousOperation):
        endpoint = None
    if not endpoint:
        return back
    query = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": back,
        "client_id": settings.OIDC_RP_CLIENT_ID,
    }
    return f"{endpoint}?{urlencode(query)}"


class Login(auth_views.LoginView):
    """The login page: the provider's button when one is set, the password form unless it
    is switched off."""

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            **kwargs,
            sign_in_with=settings.RUNBOARD_OIDC_NAME if settings.RUNBOARD_OIDC_ISSUER else None,
            password_login=settings.RUNBOARD_PASSWORD_LOGIN,
        )


login = Login.as_view()
sign_in = login_not_required(SignIn.as_view())
callback = login_not_required(views.OIDCAuthenticationCallbackView.as_view())
logout = views.OIDCLogoutView.as_view()

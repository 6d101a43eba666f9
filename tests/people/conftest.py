"""The real OpenID provider, started once for the people tests that sign in through it."""

import pytest

from dashboard import sign_in
from tests.people import openid


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    yield from openid.start(tmp_path_factory.mktemp("openid"))


@pytest.fixture
def company(provider, settings):
    settings.RUNBOARD_OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = (
        openid.CLIENT_ID,
        openid.CLIENT_SECRET,
    )
    settings.RUNBOARD_OIDC_TEAMS = {
        "data-ops": ("Data ops", "viewer"),
        "data-ops-oncall": ("Data ops", "operator"),
        "data-ops-leads": ("Data ops", "admin"),
        "finance": ("Finance", "viewer"),
    }
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
        "dashboard.sign_in.Provider",
    ]
    sign_in.discovered.cache_clear()
    yield provider
    sign_in.discovered.cache_clear()

"""How Runboard signs in to Airflow. Airflow 2 (/api/v1): Basic auth (its basic_auth backend)
or a bearer token. Airflow 3 (/api/v2): a JWT, issued by `POST /auth/token` for a username
and password (simple and FAB auth managers), or for client credentials (Keycloak, any OAuth
token URL), renewed before it expires and once when refused; or a static bearer token."""

from __future__ import annotations

import time

import httpx
import jwt

from instances.connectors.base import AuthError
from instances.connectors.http import CachedTokenAuth, VendorHTTP


class Bearer(httpx.Auth):
    def __init__(self, token: str):
        self.token = token

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class AirflowJWT(CachedTokenAuth):
    def __init__(self, base_url: str, credentials: dict[str, str]):
        super().__init__()
        self.issuer = VendorHTTP(base_url)
        self.credentials = credentials

    def fetch(self) -> str:
        creds = self.credentials
        if creds.get("client_id"):
            response = self.issuer.request(
                "POST",
                creds.get("token_url") or "/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": creds["client_id"],
                    "client_secret": creds.get("client_secret", ""),
                },
            )
        else:
            response = self.issuer.request(
                "POST",
                "/auth/token",
                json={"username": creds.get("username", ""), "password": creds.get("password", "")},
            )
        try:
            token = response.json()["access_token"]
        except (ValueError, KeyError, TypeError):
            token = None
        if response.status_code >= 400 or not isinstance(token, str) or not token:
            raise AuthError(f"POST /auth/token: HTTP {response.status_code} {response.text[:200]}")
        if (lasts := seconds_left(token)) is not None:
            self.renew_within(lasts)
        return token

    def apply(self, request: httpx.Request, token: str) -> None:
        request.headers["Authorization"] = f"Bearer {token}"


def seconds_left(token: str) -> float | None:
    """Seconds until the token's `exp` claim (read, not verified: Airflow verifies it)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        return float(claims["exp"]) - time.time()
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError):
        return None


def auth_for(api: str, base_url: str, credentials: dict[str, str]) -> httpx.Auth:
    if credentials.get("token"):
        return Bearer(credentials["token"])
    if api == "v1":
        return httpx.BasicAuth(credentials.get("username", ""), credentials.get("password", ""))
    return AirflowJWT(base_url, credentials)

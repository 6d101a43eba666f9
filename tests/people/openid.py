"""A real OpenID provider for the sign-in tests (tests/oidc/provider.mjs, panva's certified
oidc-provider on Node), and a person's way through it: its login form, its consent, and
back to Runboard's callback."""

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.processes import ROOT, free_ports, wait_for

PROVIDER = ROOT / "tests" / "oidc"
CLIENT_ID, CLIENT_SECRET = "runboard", "runboard-test-secret"
RUNBOARD = "http://testserver"  # Django's test client


@dataclass
class OpenIDProvider:
    issuer: str
    key: rsa.RSAPrivateKey
    accounts: Path

    def claims(self, **people: dict) -> None:
        """What the provider says of each person from the next sign-in on."""
        self.accounts.write_text(json.dumps(people))

    def sign(self, claims: dict, key: rsa.RSAPrivateKey | None = None) -> str:
        """An ID token signed with the provider's own key (or another one)."""
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": "test"})


def start(tmp: Path):
    """Yields the running provider; stops it after."""
    assert (PROVIDER / "node_modules" / "oidc-provider").is_dir(), (
        "the test command installs the OpenID provider (npm ci in tests/oidc)"
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    jwk.pop("key_ops", None)  # PyJWT marks a private key sign-only; the provider verifies too
    keys = tmp / "keys.json"
    keys.write_text(json.dumps({"keys": [{**jwk, "kid": "test", "alg": "RS256", "use": "sig"}]}))
    port = free_ports(1)
    provider = OpenIDProvider(f"http://127.0.0.1:{port}", key, tmp / "accounts.json")
    provider.claims()
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": f"{RUNBOARD}/login/company/callback/",
        "LOGGED_OUT_URI": f"{RUNBOARD}/login/",
        "ACCOUNTS": str(provider.accounts),
        "KEYS": str(keys),
    }
    log = (tmp / "provider.log").open("w")
    process = subprocess.Popen(
        ["node", str(PROVIDER / "provider.mjs")], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: answers(provider.issuer), 30, "the OpenID provider to answer")
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)


def answers(issuer: str) -> bool:
    try:
        return httpx.get(f"{issuer}/.well-known/openid-configuration").is_success
    except httpx.TransportError:
        return False


def through_provider(browser: httpx.Client, url: str, account: str) -> str:
    """Follows the provider from `url` as a person would (logging in as `account` and
    consenting if asked) until it sends them back to Runboard; that address."""
    for _ in range(10):
        if url.startswith(RUNBOARD):
            return url
        page = browser.get(url)
        if page.is_redirect:
            url = urljoin(url, page.headers["location"])
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"', page.text)
        assert form, page.text
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        if fields.get("prompt") == "login":
            fields |= {"login": account, "password": "any"}
        elif "logout" in form.group(1) or "xsrf" in fields:
            fields |= {"logout": "yes"}
        answer = browser.post(urljoin(url, form.group(1)), data=fields)
        assert answer.is_redirect, answer.text
        url = urljoin(url, answer.headers["location"])
    raise AssertionError(f"the provider never sent the person back: {url}")


def local(url: str) -> str:
    """Runboard's address as Django's test client asks for it."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def sign_in_as(client, browser: httpx.Client, account: str):
    """Runboard's answer at the end of the person's way through the provider."""
    start = client.get("/login/company/")
    assert start.status_code == 302, start
    back = through_provider(browser, start["location"], account)
    return client.get(local(back))

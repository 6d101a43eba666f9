"""Vendor credentials at rest: Fernet-encrypted JSON, shown back only masked; and the keys
Runboard hands out (API tokens, invitations), of which only a hash is kept."""

import base64
import hashlib
import json
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(settings.CREDENTIALS_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secrets: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("credentials cannot be decrypted with CREDENTIALS_KEY") from exc


def mask(value: str) -> str:
    """Enough to recognise a secret, never enough to use it."""
    if len(value) <= 8:
        return "•" * len(value)
    return f"{value[:2]}{'•' * 6}{value[-2:]}"


def new_key() -> str:
    """A key to hand out once: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    """What is kept of a key handed out, and looked up by."""
    return hashlib.sha256(key.strip().encode()).hexdigest()

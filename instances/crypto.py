"""Vendor credentials at rest: Fernet-encrypted JSON, shown back only masked."""

import base64
import hashlib
import json

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

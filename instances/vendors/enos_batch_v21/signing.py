"""EnOS APIM signing as pure functions: the connector signs, the emulator verifies."""

import hashlib


def enos_encryption(app_key: str, timestamp: str, app_secret: str) -> str:
    """APIM token request: lowercase hex sha256(appKey + timestamp + appSecret)."""
    return hashlib.sha256(f"{app_key}{timestamp}{app_secret}".encode()).hexdigest()


def enos_signature(
    token: str, query: dict[str, str], body: str, timestamp: str, app_secret: str
) -> str:
    """APIM per-request signature: sha256(token + sorted k1v1k2v2… + body + timestamp + secret)."""
    params = "".join(f"{key}{query[key]}" for key in sorted(query))
    return hashlib.sha256(f"{token}{params}{body}{timestamp}{app_secret}".encode()).hexdigest()

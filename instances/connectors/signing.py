"""Request signing as pure functions: connectors sign with them, the emulator verifies."""

import hashlib
from urllib.parse import quote


def enos_encryption(app_key: str, timestamp: str, app_secret: str) -> str:
    """APIM token request: lowercase hex sha256(appKey + timestamp + appSecret)."""
    return hashlib.sha256(f"{app_key}{timestamp}{app_secret}".encode()).hexdigest()


def enos_signature(token: str, query: dict[str, str], body: str, timestamp: str,
                   app_secret: str) -> str:  # fmt: skip
    """APIM per-request signature: sha256(token + sorted k1v1k2v2… + body + timestamp + secret)."""
    params = "".join(f"{key}{query[key]}" for key in sorted(query))
    return hashlib.sha256(f"{token}{params}{body}{timestamp}{app_secret}".encode()).hexdigest()


def ocp_string_to_sign(method: str, body: bytes, content_type: str, date: str, host: str,
                       headers: dict[str, str], path: str,
                       params: list[tuple[str, str]]) -> str:  # fmt: skip
    """OCP access-key signature input (OceanBase's own client): method, MD5 of the body,
    content type, date, host, sorted x-ocp-* headers, path with sorted quoted parameters."""
    md5 = hashlib.md5(body).hexdigest().upper() if body else ""  # noqa: S324 - vendor's choice
    ocp_headers = "\n".join(
        f"{name.lower()}:{value}" for name, value in sorted(headers.items())
        if name.lower().startswith("x-ocp-")
    )  # fmt: skip
    if params:
        path += "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}"
                               for k, v in sorted(params))  # fmt: skip
    return "\n".join([method.upper(), md5, content_type, date, host, ocp_headers, path])

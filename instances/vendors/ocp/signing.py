"""OCP access-key signing as pure functions: the connector signs, the emulator verifies."""

import base64
import hashlib
import hmac
from urllib.parse import quote


def ocp_string_to_sign(
    method: str,
    body: bytes,
    content_type: str,
    date: str,
    host: str,
    headers: dict[str, str],
    path: str,
    params: list[tuple[str, str]],
) -> str:
    """OCP access-key signature input (OceanBase's own client): method, MD5 of the body,
    content type, date, host, sorted x-ocp-* headers, path with sorted quoted parameters."""
    md5 = hashlib.md5(body).hexdigest().upper() if body else ""  # noqa: S324 - vendor's choice
    ocp_headers = "\n".join(
        f"{name}:{value}"
        for name, value in sorted((n.lower(), v) for n, v in headers.items())
        if name.startswith("x-ocp-")
    )
    if params:
        path += "?" + "&".join(
            f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params)
        )
    return "\n".join([method.upper(), md5, content_type, date, host, ocp_headers, path])


def ocp_signature(secret: str, to_sign: str) -> str:
    """Base64(HMAC-SHA1(SK, toSignString)): OCP supports no other."""
    return base64.b64encode(
        hmac.new(secret.encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()

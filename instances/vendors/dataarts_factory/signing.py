"""Huawei APIG AK/SK signing as pure functions: the connector signs, the emulator verifies."""

import hashlib
import hmac
from urllib.parse import quote, unquote

HUAWEI_ALGORITHM = "SDK-HMAC-SHA256"
HUAWEI_DATE_FORMAT = "%Y%m%dT%H%M%SZ"  # the X-Sdk-Date header, UTC
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def huawei_canonical_request(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    signed: list[str],
    body: bytes,
    body_hash: str = "",
) -> str:
    """Huawei APIG's canonical request (huaweicloudsdkcore's Signer): each path segment
    encoded (safe `~`) and a trailing `/`; the query sorted, encoded; the signed headers,
    lower-cased names and trimmed values; the body's SHA-256 (or X-Sdk-Content-Sha256)."""
    segments = [quote(segment, safe="~") for segment in unquote(path).split("/")]
    canonical_path = "/".join(segments)
    canonical_path += "" if canonical_path.endswith("/") else "/"
    canonical_query = "&".join(
        f"{quote(key, safe='~')}={quote(value, safe='~')}" for key, value in sorted(query)
    )
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered.get(name, '')}\n" for name in signed)
    payload = body_hash or (hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256)
    return "\n".join(
        [
            method.upper(),
            canonical_path,
            canonical_query,
            canonical_headers,
            ";".join(signed),
            payload,
        ]
    )


def huawei_signature(secret_key: str, sdk_date: str, canonical_request: str) -> str:
    """hex(HMAC-SHA256(SK, "SDK-HMAC-SHA256\\n{X-Sdk-Date}\\n{hex(sha256(canonical))}"))."""
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    to_sign = f"{HUAWEI_ALGORITHM}\n{sdk_date}\n{digest}"
    return hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha256).hexdigest()

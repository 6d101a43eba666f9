"""Request signing as pure functions: connectors sign with them, the emulator verifies."""

import base64
import hashlib
import hmac
from urllib.parse import quote, unquote


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
        f"{name}:{value}" for name, value in sorted((n.lower(), v) for n, v in headers.items())
        if name.startswith("x-ocp-")
    )  # fmt: skip
    if params:
        path += "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}"
                               for k, v in sorted(params))  # fmt: skip
    return "\n".join([method.upper(), md5, content_type, date, host, ocp_headers, path])


def ocp_signature(secret: str, to_sign: str) -> str:
    """Base64(HMAC-SHA1(SK, toSignString)): OCP supports no other."""
    return base64.b64encode(
        hmac.new(secret.encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()


HUAWEI_ALGORITHM = "SDK-HMAC-SHA256"
HUAWEI_DATE_FORMAT = "%Y%m%dT%H%M%SZ"  # the X-Sdk-Date header, UTC
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def huawei_canonical_request(method: str, path: str, query: list[tuple[str, str]],
                             headers: dict[str, str], signed: list[str], body: bytes,
                             body_hash: str = "") -> str:  # fmt: skip
    """Huawei APIG's canonical request (huaweicloudsdkcore's Signer): each path segment
    encoded (safe `~`) and a trailing `/`; the query sorted, encoded; the signed headers,
    lower-cased names and trimmed values; the body's SHA-256 (or X-Sdk-Content-Sha256)."""
    segments = [quote(segment, safe="~") for segment in unquote(path).split("/")]
    canonical_path = "/".join(segments)
    canonical_path += "" if canonical_path.endswith("/") else "/"
    canonical_query = "&".join(f"{quote(key, safe='~')}={quote(value, safe='~')}"
                               for key, value in sorted(query))  # fmt: skip
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered.get(name, '')}\n" for name in signed)
    payload = body_hash or (hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256)
    return "\n".join([method.upper(), canonical_path, canonical_query, canonical_headers,
                      ";".join(signed), payload])  # fmt: skip


def huawei_signature(secret_key: str, sdk_date: str, canonical_request: str) -> str:
    """hex(HMAC-SHA256(SK, "SDK-HMAC-SHA256\\n{X-Sdk-Date}\\n{hex(sha256(canonical))}"))."""
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    to_sign = f"{HUAWEI_ALGORITHM}\n{sdk_date}\n{digest}"
    return hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha256).hexdigest()

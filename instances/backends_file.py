"""Backends as code: a TOML file of [[backend]] tables, validated as a whole before any write.

Secrets are never written in the file: every credential value is a ${ENV_VAR} reference,
expanded from the environment when the file is loaded."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass

from . import zones
from .registry import CONNECTORS

REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
REQUIRED = {"name", "kind", "base_url"}
ALLOWED = REQUIRED | {
    "team",
    "poll_interval",
    "timezone",
    "enabled",
    "scope",
    "credentials",
    "may_act",
    "acting_credentials",
}


class BackendsFileError(ValueError):
    def __init__(self, line: int | None, reason: str):
        super().__init__(f"line {line}: {reason}" if line else reason)


@dataclass
class BackendSpec:
    name: str
    kind: str
    base_url: str
    team: str | None
    poll_interval: int
    timezone: str
    enabled: bool
    scope: dict
    credentials: dict[str, str]
    may_act: bool
    acting_credentials: dict[str, str]  # empty: actions use the polls' credential


def parse(text: str, environ=os.environ) -> list[BackendSpec]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BackendsFileError(None, str(exc)) from exc  # "… (at line N, column M)"
    unknown_top = set(document) - {"backend"}
    if unknown_top:
        raise BackendsFileError(None, f"unknown top-level keys: {', '.join(sorted(unknown_top))}")
    specs, names = [], set()
    for index, table in enumerate(document.get("backend", [])):
        line = table_line(text, index)
        specs.append(spec(table, line, environ))
        if specs[-1].name in names:
            raise BackendsFileError(line, f"backend {specs[-1].name!r} appears twice")
        names.add(specs[-1].name)
    return specs


def table_line(text: str, index: int, table: str = "backend") -> int:
    """Line of the index-th [[table]] header, for messages."""
    headers = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == f"[[{table}]]"]
    return headers[index] if index < len(headers) else 0


def secret(value, line: int, what: str, environ) -> str:
    """A ${ENV_VAR} reference's value: secrets are never written in the file."""
    match = REFERENCE.match(str(value))
    if not match:
        raise BackendsFileError(
            line, f"{what} must be a ${{ENV_VAR}} reference, never a secret written in the file"
        )
    if match.group(1) not in environ:
        raise BackendsFileError(line, f"{what}: ${match.group(1)} is not set")
    return environ[match.group(1)]


def spec(table: dict, line: int, environ) -> BackendSpec:
    if missing := REQUIRED - set(table):
        raise BackendsFileError(line, f"missing {', '.join(sorted(missing))}")
    if unknown := set(table) - ALLOWED:
        raise BackendsFileError(line, f"unknown keys {', '.join(sorted(unknown))}")
    if table["kind"] not in CONNECTORS:
        raise BackendsFileError(
            line, f"kind {table['kind']!r} is not one of {', '.join(sorted(CONNECTORS))}"
        )
    if not str(table["base_url"]).startswith(("http://", "https://")):
        raise BackendsFileError(line, "base_url must start with http:// or https://")
    credentials, acting = (
        {
            key: secret(value, line, f"{part}.{key}", environ)
            for key, value in (table.get(part) or {}).items()
        }
        for part in ("credentials", "acting_credentials")
    )
    zone = table.get("timezone", "")  # blank: the vendor's own
    if zone and zone not in zones.known():
        raise BackendsFileError(
            line, f"timezone {zone!r} is not an IANA time zone name, like Asia/Shanghai"
        )
    interval = table.get("poll_interval", 30)
    if not isinstance(interval, int) or interval < 5:
        raise BackendsFileError(line, "poll_interval must be an integer of at least 5 seconds")
    return BackendSpec(
        name=str(table["name"]),
        kind=table["kind"],
        base_url=str(table["base_url"]),
        team=table.get("team"),
        poll_interval=interval,
        timezone=zone,
        enabled=bool(table.get("enabled", True)),
        scope=dict(table.get("scope") or {}),
        credentials=credentials,
        may_act=bool(table.get("may_act", False)),
        acting_credentials=acting,
    )

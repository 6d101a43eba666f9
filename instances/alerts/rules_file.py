"""Alerting as code, in the backends file's style: [[channel]], [[product]] and [[rule]]
tables, validated whole before any write. A channel's target is a ${ENV_VAR} reference (a bot
URL carries its token); a data product lists its definitions by backend name; rules name their
team's channels and, optionally, one of its backends or data products."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import time

from instances import zones
from instances.backends_file import BackendsFileError, secret, table_line
from instances.models import MOST_PARTS

from .channels import target_error
from .models import AlertRule, Channel

CHANNEL_KEYS = {"team", "name", "kind", "target", "max_per_minute", "group_seconds", "enabled"}
RULE_NUMBERS = {
    "after_failures": int,
    "stuck_factor": float,
    "silent_minutes": int,
    "grace_minutes": int,
    "repeat_minutes": int,
}
RULE_TEXTS = {"definition_id", "owner", "name_pattern", "deadline_zone", "calendar"}
RULE_KEYS = (
    {"team", "name", "kind", "enabled", "backend", "product", "channels", "deadline"}
    | RULE_TEXTS
    | set(RULE_NUMBERS)
)


@dataclass
class ChannelSpec:
    team: str
    name: str
    kind: str
    target: str
    max_per_minute: int = 20
    enabled: bool = True
    group_seconds: int = 60


@dataclass
class ProductSpec:
    team: str
    name: str
    parts: list[tuple[str, str]]  # (backend name, definition id)


@dataclass
class RuleSpec:
    team: str
    name: str
    kind: str
    backend: str | None
    channels: list[str]
    enabled: bool = True
    fields: dict = field(default_factory=dict)  # scope texts and numbers
    product: str | None = None


@dataclass
class AlertsFile:
    channels: list[ChannelSpec]
    products: list[ProductSpec]
    rules: list[RuleSpec]


def parse(text: str, environ=os.environ) -> AlertsFile:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BackendsFileError(None, str(exc)) from exc
    if unknown := set(document) - {"channel", "product", "rule"}:
        raise BackendsFileError(None, f"unknown top-level keys: {', '.join(sorted(unknown))}")
    channels = [
        channel(table, table_line(text, n, "channel"), environ)
        for n, table in enumerate(document.get("channel", []))
    ]
    products = [
        product(table, table_line(text, n, "product"))
        for n, table in enumerate(document.get("product", []))
    ]
    rules = [
        rule(table, table_line(text, n, "rule")) for n, table in enumerate(document.get("rule", []))
    ]
    named = {(c.team, c.name) for c in channels}
    for n, spec in enumerate(rules):
        for wanted in spec.channels:
            if (spec.team, wanted) not in named and not Channel.objects.filter(
                team__name=spec.team, name=wanted
            ).exists():
                raise BackendsFileError(
                    table_line(text, n, "rule"),
                    f"channel {wanted!r} is not a channel of team {spec.team!r}",
                )
    for kind, specs in (("channel", channels), ("product", products), ("rule", rules)):
        keys = [(s.team, s.name) for s in specs]
        if len(keys) != len(set(keys)):
            raise BackendsFileError(None, f"a {kind} appears twice in one team")
    return AlertsFile(channels, products, rules)


def required(table: dict, line: int, keys: set[str], allowed: set[str]) -> None:
    if missing := keys - set(table):
        raise BackendsFileError(line, f"missing {', '.join(sorted(missing))}")
    if unknown := set(table) - allowed:
        raise BackendsFileError(line, f"unknown keys {', '.join(sorted(unknown))}")


def channel(table: dict, line: int, environ) -> ChannelSpec:
    required(table, line, {"team", "name", "kind", "target"}, CHANNEL_KEYS)
    if table["kind"] not in Channel.Kind.values:
        raise BackendsFileError(
            line, f"kind {table['kind']!r} is not one of {', '.join(Channel.Kind.values)}"
        )
    target = secret(table["target"], line, "target", environ)
    if why := target_error(table["kind"], target):
        raise BackendsFileError(line, f"target: {why}")
    rate = table.get("max_per_minute", 20)
    if not isinstance(rate, int) or rate < 1:
        raise BackendsFileError(line, "max_per_minute must be a positive integer")
    group = table.get("group_seconds", 60)
    if not isinstance(group, int) or group < 0:
        raise BackendsFileError(line, "group_seconds must be an integer of at least 0")
    return ChannelSpec(
        str(table["team"]),
        str(table["name"]),
        table["kind"],
        target,
        rate,
        bool(table.get("enabled", True)),
        group,
    )


def product(table: dict, line: int) -> ProductSpec:
    required(table, line, {"team", "name", "definitions"}, {"team", "name", "definitions"})
    definitions = table["definitions"]
    if not isinstance(definitions, list) or not all(
        isinstance(d, dict) and set(d) == {"backend", "definition"} for d in definitions
    ):
        raise BackendsFileError(
            line, 'definitions must be a list of { backend = "…", definition = "…" }'
        )
    if len(definitions) > MOST_PARTS:
        raise BackendsFileError(line, f"a data product holds {MOST_PARTS} definitions at most")
    parts = [(str(d["backend"]), str(d["definition"])) for d in definitions]
    return ProductSpec(str(table["team"]), str(table["name"]), parts)


def rule(table: dict, line: int) -> RuleSpec:
    required(table, line, {"team", "name", "kind"}, RULE_KEYS)
    if table["kind"] not in AlertRule.Kind.values:
        raise BackendsFileError(
            line, f"kind {table['kind']!r} is not one of {', '.join(AlertRule.Kind.values)}"
        )
    fields: dict = {key: str(table[key]) for key in RULE_TEXTS if key in table}
    if "deadline" in table:
        if not isinstance(table["deadline"], time):
            raise BackendsFileError(line, "deadline must be a time of day, like 06:30:00")
        fields["deadline"] = table["deadline"]
    calendar_field = AlertRule._meta.get_field("calendar")
    if fields.get("calendar", "") not in dict(calendar_field.choices or ()):
        raise BackendsFileError(line, f"calendar {fields['calendar']!r} is not one we know")
    if fields.get("deadline_zone") and not zones.zone(fields["deadline_zone"]):
        raise BackendsFileError(line, f"{fields['deadline_zone']!r} is not an IANA time zone")
    for key, kind in RULE_NUMBERS.items():
        if key in table:
            if not isinstance(table[key], int | float) or table[key] < 0:
                raise BackendsFileError(line, f"{key} must be a number of at least 0")
            fields[key] = kind(table[key])
    channels = table.get("channels", [])
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise BackendsFileError(line, "channels must be a list of channel names")
    return RuleSpec(
        str(table["team"]),
        str(table["name"]),
        table["kind"],
        table.get("backend"),
        channels,
        bool(table.get("enabled", True)),
        fields,
        table.get("product"),
    )

"""Vendor values → our vocabulary: status tables and time formats, shared by every connector."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from instances.status import Status

log = logging.getLogger(__name__)
_reported: set[tuple[str, str]] = set()


GMT = re.compile(r"GMT([+-])(\d{1,2})")


def gmt_zone(text) -> str | None:
    """A vendor's "GMT+8" as the IANA name of that fixed offset ("Etc/GMT-8": POSIX inverts
    the sign); None when it says something else."""
    found = GMT.fullmatch(str(text or "").strip())
    if not found:
        return None
    sign, hours = found.group(1), int(found.group(2))
    return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}" if hours else "UTC"


def status_from(table: dict, vendor: str, *keys) -> tuple[Status, tuple[str, ...]]:
    """The first key found in the table wins (codes before names); unknown → UNKNOWN, logged
    once per value. Table values are a Status or (Status, flag, …)."""
    for key in keys:
        if key is not None and key in table:
            found = table[key]
            return (found, ()) if isinstance(found, Status) else (found[0], tuple(found[1:]))
    value = "/".join(str(k) for k in keys)
    if (vendor, value) not in _reported:
        _reported.add((vendor, value))
        log.warning("%s: unknown status %r, stored as UNKNOWN", vendor, value)
    return Status.UNKNOWN, ()


def naive_local(text: str | None, zone: str) -> datetime | None:
    """'2021-02-02 19:35:24' (optionally '.0') in the backend's zone → aware UTC."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.strip().replace(" ", "T"))
    return moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


JAVA_DATE = re.compile(r"^\w{3} (\w{3}) (\d{2}) (\d{2}:\d{2}:\d{2}) (\w+) (\d{4})$")


def java_date(text: str | None, cst_zone: str = "Asia/Shanghai") -> datetime | None:
    """Java Date.toString(): 'Tue Feb 02 17:35:00 CST 2021'. 'CST' is ambiguous (China or US
    Central); its meaning is a backend setting, China by default."""
    match = JAVA_DATE.match(text or "")
    if not match:
        return None
    month, day, clock, zone, year = match.groups()
    naive = datetime.strptime(f"{year} {month} {day} {clock}", "%Y %b %d %H:%M:%S")
    zone_name = cst_zone if zone == "CST" else {"UTC": "UTC", "GMT": "UTC"}.get(zone, cst_zone)
    return naive.replace(tzinfo=ZoneInfo(zone_name)).astimezone(UTC)


def epoch_ms(value) -> datetime | None:
    """Epoch milliseconds; 0 or missing means 'not yet'."""
    if not value:
        return None
    return datetime.fromtimestamp(float(value) / 1000, UTC)


ISO_FRACTION = re.compile(r"\.(\d+)")


def iso(text: str | None) -> datetime | None:
    """ISO 8601 with an offset and 0–9 fraction digits → aware UTC."""
    if not text:
        return None
    text = ISO_FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text.strip(), count=1)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def nested_json(value, note: list[str], what: str):
    """Decode a JSON-encoded string field; on failure keep the raw text and note why."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        note.append(f"{what} is not valid JSON: {exc}")
        return None

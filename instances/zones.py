"""IANA time zone names: the only ones a backend may be given or a page may be shown in."""

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def known() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of that name, or None for anything else (a typo stored before validation)."""
    return zoneinfo.ZoneInfo(name) if name in known() else None


def validate_zone(name: str) -> None:
    """An IANA name, or blank for "the vendor's own" (EnOS says it through getTimeZone)."""
    if name and name not in known():
        raise ValidationError(f"{name!r} is not an IANA time zone name, like Asia/Shanghai.")

"""What every emulated gateway checks alike: a request's own time."""

from datetime import UTC, datetime, timedelta

SKEW_AT_MOST = timedelta(minutes=15)  # the gateways' limit on a request's own time


def in_time(at: datetime | None) -> bool:
    """Whether a request's stated time is within SKEW_AT_MOST of the real clock."""
    return at is not None and abs(datetime.now(UTC) - at) <= SKEW_AT_MOST

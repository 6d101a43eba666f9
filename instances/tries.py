"""Earlier tries of runs and steps that ran again in place (a retry): listed by the vendor
where its API lists them, else kept by Runboard from what it had stored when the next try
began, so each try keeps its own status, times and error."""

from __future__ import annotations

from django.db import connection

from . import bulk
from .connectors.base import RunRecord
from .known import Stored
from .models import Instance, Try

COLUMNS = (
    "instance_id",
    "number",
    "status",
    "started_at",
    "finished_at",
    "error_message",
    "log_locator",
)


def began_again(record: RunRecord, old: Stored | None) -> bool:
    """A stored run or step whose vendor now counts more tries than it did."""
    return bool(old and old.attempts and record.attempts and record.attempts > old.attempts)


def keep_stored(pks: list[int]) -> None:
    """Keep the stored state of these runs as the try it was, before their next try
    overwrites it (a try the vendor listed already is left as the vendor said)."""
    if not pks:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Try._meta.db_table)} ({names}) "
            "SELECT id, attempts, status, started_at, finished_at, error_message, log_locator "
            f"FROM {quote(Instance._meta.db_table)} "
            f"WHERE id IN ({', '.join(['%s'] * len(pks))}) "
            "ON CONFLICT (instance_id, number) DO NOTHING",
            pks,
        )


def write_listed(records: list[RunRecord], pks: dict[str, int]) -> None:
    """The earlier tries the vendor listed with these records, as it says them."""
    rows = [
        (
            pks[record.external_id],
            earlier.number,
            str(earlier.status),
            earlier.started_at,
            earlier.finished_at,
            earlier.error_message,
            earlier.log_locator[:1000],
        )
        for record in records
        for earlier in record.tries
        if record.external_id in pks
    ]
    listed = {column: f"EXCLUDED.{column}" for column in COLUMNS[2:]}
    bulk.upsert(Try, COLUMNS, rows, ("instance_id", "number"), listed)

"""Bulk writes the ORM makes slow: the pipeline's upserts and appends.

Django's bulk_create(update_conflicts=True) manages about 4,600 rows/s on PostgreSQL, and a
thousand-placeholder statement costs more to build than to run. On PostgreSQL rows therefore
go through COPY (into a temporary staging table, then one INSERT … SELECT … ON CONFLICT); on
SQLite through executemany of the same INSERT … ON CONFLICT.
"""

from collections.abc import Iterable, Sequence
from typing import cast

from django.db import connection, models

TYPES_TO_ADAPT = {"DateTimeField", "DurationField", "DateField"}


def upsert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence],
    conflict: Sequence[str],
    assignments: dict[str, str],
    returning: Sequence[str] = (),
) -> list[tuple]:
    """INSERT rows ON CONFLICT (conflict) DO UPDATE SET col = expression for each assignment;
    expressions may use {table} for the existing row and EXCLUDED for the new one. Returns
    the `returning` columns of every row written (in no particular order)."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(col) for col in columns)
    updates = ", ".join(
        f"{quote(col)} = {expr.format(table=table)}" for col, expr in assignments.items()
    )
    on_conflict = f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}"
    if returning:
        on_conflict += f" RETURNING {', '.join(quote(col) for col in returning)}"
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
            if not returning:
                cursor.executemany(f"{insert} {on_conflict}", adapted(model, columns, rows))
                return []
            written = []
            for row in adapted(model, columns, rows):  # executemany returns no rows
                cursor.execute(f"{insert} {on_conflict}", row)
                written += cursor.fetchall()
            return [tuple(found) for found in written]
        staging = quote(f"staging_{model._meta.db_table}")
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} AS SELECT {names} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # "WHERE true" keeps PostgreSQL from reading ON CONFLICT as part of the SELECT.
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} WHERE true {on_conflict}"
        )
        written = cursor.fetchall() if returning else []
        cursor.execute(f"TRUNCATE {staging}")
    return [tuple(found) for found in written]


def append(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Plain INSERT of many rows."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            model(**dict(zip(columns, row, strict=True))) for row in rows
        )
        return
    names = ", ".join(connection.ops.quote_name(col) for col in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def adapted(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]):
    """Times and durations in the form Django stores them on this database."""
    fields = [cast(models.Field, model._meta.get_field(name)) for name in columns]
    convert = [field.get_internal_type() in TYPES_TO_ADAPT for field in fields]
    for row in rows:
        yield [
            field.get_db_prep_save(value, connection) if value is not None and needs else value
            for field, needs, value in zip(fields, convert, row, strict=True)
        ]

"""A search's first page, found by walking the newest runs in order.

PostgreSQL plans `name ILIKE '%…%'` from a row estimate: a part of a name that many runs
have (one in a hundred) can still be planned as a trigram bitmap ANDed with a bitmap of
every top-level run, then sorted: 60-80 ms at 10 M runs, where walking the newest runs in
list order finds a page in a few thousand rows. The walk is made certain, and bounded, by
reading the search from a subquery of the first PROBE runs in order: PostgreSQL runs it
lazily and stops at a page. A rarer part of a name (fewer matches than a page in them) is
left to the planner, whose trigram index then serves it well.
"""

from django.db import connection
from django.db.models import Q, QuerySet, prefetch_related_objects

from instances.models import Instance

PROBE = 5000  # runs walked, newest first in the list's order, before the planner is asked


def among_first(runs: QuerySet[Instance], matching: Q, wanted: int, field: str,
                descending: bool) -> list[Instance] | None:  # fmt: skip
    """The first `wanted` runs of `runs` (ordered by `field`, then id) that match, if the
    first PROBE runs hold that many; else None."""
    quote = connection.ops.quote_name
    table = quote(Instance._meta.db_table)
    walked, walked_params = runs[:PROBE].query.sql_with_params()
    found = Instance.objects.filter(matching).query
    condition, condition_params = found.where.as_sql(found.get_compiler(connection=connection),
                                                     connection)  # fmt: skip
    # the subquery takes the table's name, so Django's condition applies to it verbatim
    way = "DESC" if descending else "ASC"
    rows = list(Instance.objects.raw(
        f"SELECT * FROM ({walked}) AS {table} WHERE {condition} "
        f"ORDER BY {table}.{quote(field)} {way}, {table}.{quote('id')} {way} LIMIT {int(wanted)}",
        (*walked_params, *condition_params)))  # fmt: skip
    if len(rows) < wanted:
        return None
    prefetch_related_objects(rows, "backend", "parent")
    return rows

"""A search's page: each part of the list (top-level runs, steps) searched on its own
indexes, the newest runs walked first.

PostgreSQL plans `name ILIKE '%…%'` from a row estimate: a part of a name that many runs
have (one in a hundred) can be planned as a trigram bitmap ANDed with a bitmap of every
top-level run, then sorted: 60-80 ms at 10 M runs, where walking the newest runs in the
list's order finds a page in a few thousand rows. The walk is made certain, and bounded, by
reading the search from a subquery of the first PROBE runs in order: PostgreSQL runs it
lazily and stops at a page. A rarer part of a name (fewer matches than a page in them) is
left to the planner and the part's own trigram index (migration 0020), which then serves it
well. The parts' finds are put in order by the database, as the list's keyset paging needs.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet

from instances.models import Instance

PROBE = 5000  # runs walked, newest first in the list's order, before the planner is asked


def first(parts: list[QuerySet[Instance]], matching: Q, wanted: int) -> list[Instance]:
    """The first `wanted` matching runs of these ordered parts of one list."""
    found: set[int] = set()
    for part in parts:
        found.update(
            among_first(part, matching, wanted)
            or part.filter(matching).values_list("pk", flat=True)[:wanted]
        )
    ordered = parts[0].model.objects.filter(pk__in=found).order_by(*parts[0].query.order_by)
    return list(ordered.select_related("backend", "parent")[:wanted])


def among_first(part: QuerySet[Instance], matching: Q, wanted: int) -> list[int] | None:
    """The ids of the first `wanted` runs of the ordered `part` that match, if its first
    PROBE runs hold that many; else None."""
    quote = connection.ops.quote_name
    table = quote(Instance._meta.db_table)
    ordering = [str(name).lstrip("-") for name in part.query.order_by]
    # the walk carries only what the search reads and the order needs: a run's whole row is
    # some kilobytes (its raw payload), and a probe carries thousands
    narrow = part.only("external_id", "name", *ordering)
    try:
        walked, walked_params = narrow[:PROBE].query.sql_with_params()
    except EmptyResultSet:  # nothing visible: the plain query answers without SQL
        return None
    query = Instance.objects.filter(matching).query
    condition, condition_params = query.where.as_sql(
        query.get_compiler(connection=connection), connection
    )
    # the subquery takes the table's name, so Django's condition applies to it verbatim; its
    # order is the part's (fields named as their columns), which PostgreSQL sees it holds
    order = ", ".join(
        f"{table}.{quote(name.lstrip('-'))} {'DESC' if name[0] == '-' else 'ASC'}"
        for name in map(str, part.query.order_by)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {table}.{quote('id')} FROM ({walked}) AS {table} "
            f"WHERE {condition} ORDER BY {order} LIMIT {int(wanted)}",
            (*walked_params, *condition_params),
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) == wanted else None

"""A search's page: each part of the list (top-level runs, steps) searched on its own
indexes, every plan chosen by exact counts, never by the planner's row estimates.

First the names runs have had (instances.models.RunName: thousands, where runs are millions;
top-level runs' and steps' apart) are looked up. When the names holding the search have few
runs (counted up to FEW on the name index, in the same query), those runs are all read and
put in order. Else the newest runs are walked: PostgreSQL plans `name ILIKE '%…%'` from a row
estimate, and may plan a part of a name that many runs have as a trigram bitmap ANDed with a
bitmap of every top-level run, then sorted (60-80 ms at 10 M runs), where walking the list's
order finds a page in a few thousand rows; reading from a subquery of the first PROBE runs in
order makes the walk certain and bounded (PostgreSQL runs it lazily and stops at a page). Past
that, every match of the names is read. The runs' own trigram index is asked only when too
many names hold the search: its bitmap is as long as the runs holding the search's commonest
trigram (150 ms at 10 M runs that share "nightly load"). The parts' finds are put in order by
the database, as the list's keyset paging needs.
"""

from collections.abc import Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Upper

from instances.models import Instance, RunName

PROBE = 5000  # runs walked, newest first in the list's order, when the names have more
NAMES = 100  # names whose runs a search reads by name; more, and the part of a name is common
FEW = 1000  # runs of those names read at once, whatever their age; more, and the newest walked


def matching(q: str) -> Q:
    """What the search box finds: a vendor id, or part of a name."""
    return Q(external_id=q) | Q(name__icontains=q)


def first(
    parts: Sequence[tuple[QuerySet[Instance], bool | None]], q: str, wanted: int
) -> list[Instance]:
    """The first `wanted` runs matching `q` of these ordered parts of one list, each given
    with whether it lists steps (None: steps matched by their vendor id alone)."""
    found: set[int] = set()
    for part, of_steps in parts:
        if of_steps is None:
            found.update(part.values_list("pk", flat=True)[:wanted])
            continue
        names = named(q, of_steps)
        by_name = None if names is None else Q(external_id=q) | Q(name__in=names)
        ids = None
        if by_name is not None:  # however old, read at once when they are few
            ids = among_few(part, by_name, wanted)
        if ids is None:
            ids = among_first(part, matching(q), wanted)
        if ids is None:
            ids = (
                list(part.filter(matching(q)).values_list("pk", flat=True)[:wanted])
                if by_name is None
                else among_all(part, by_name, wanted)
            )
        found.update(ids)
    ordered = Instance.objects.filter(pk__in=found).order_by(*parts[0][0].query.order_by)
    return list(ordered.as_listed()[:wanted])


def named(q: str, of_steps: bool) -> list[str] | None:
    """The names that top-level runs (or steps) have had holding `q`; None when they are too
    many to read by name, or not kept (SQLite, which scans its runs for a search anyway)."""
    if connection.vendor != "postgresql":
        return None
    names = list(
        RunName.objects.filter(folded__contains=Upper(Value(q)), step=of_steps)
        .values_list("name", flat=True)
        .distinct()[: NAMES + 1]
    )
    return names if len(names) <= NAMES else None


def among_first(part: QuerySet[Instance], matching: Q, wanted: int) -> list[int] | None:
    """The ids of the first `wanted` runs of the ordered `part` that match, if its first
    PROBE runs hold that many; else None."""
    ids = ordered_ids(part, matching, wanted, walked=True)
    return ids if ids is not None and len(ids) == wanted else None


def among_all(part: QuerySet[Instance], matching: Q, wanted: int) -> list[int]:
    """The ids of the first `wanted` runs of the ordered `part` that match, read from all
    the matches (by their own indexes: a few names' runs), then put in order."""
    return ordered_ids(part, matching, wanted, walked=False) or []


def among_few(part: QuerySet[Instance], matching: Q, wanted: int) -> list[int] | None:
    """As among_all, when fewer than FEW runs of `part` match (counted in the same query, up
    to FEW, on the name index: an exact answer, where an estimate may be off by orders of
    magnitude); else None."""
    return ordered_ids(part, matching, wanted, walked=False, cap=FEW)


def ordered_ids(
    part: QuerySet[Instance], matching: Q, wanted: int, walked: bool, cap: int | None = None
) -> list[int] | None:
    """The first `wanted` ids of `part` matching, in its order: among its first PROBE runs
    (`walked`: PostgreSQL walks the order's index lazily and stops at a page), or among all
    the matches, which a materialized subquery makes PostgreSQL read apart from the order
    (else, from an estimate, it may walk the order's index through millions of runs that
    never match). None when nothing is visible, or when `cap` or more match."""
    quote = connection.ops.quote_name
    table = quote(Instance._meta.db_table)
    ordering = [str(name).lstrip("-") for name in part.query.order_by]
    # the subquery carries only what the search reads and the order needs: a run's whole
    # row is some kilobytes (its raw payload), and a probe carries thousands
    narrow = part.only("external_id", "name", *ordering)
    inner = narrow[:PROBE] if walked else narrow.filter(matching).order_by()[:cap]
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # nothing visible: the plain query answers without SQL
        return None
    query = Instance.objects.filter(matching).query
    condition, condition_params = query.where.as_sql(
        query.get_compiler(connection=connection), connection
    )
    # the subquery takes the table's name, so Django's condition applies to it verbatim; its
    # order is the part's (fields named as their columns)
    order = ", ".join(
        f"{table}.{quote(name.lstrip('-'))} {'DESC' if name[0] == '-' else 'ASC'}"
        for name in map(str, part.query.order_by)
    )
    source = f"({sql}) AS {table}" if walked else table
    fence = "" if walked else f"WITH {table} AS MATERIALIZED ({sql}) "  # PostgreSQL's
    # the count reads every row before the first: only where the matches are capped, never
    # on a walk, which must stop at a page
    counted = ", COUNT(*) OVER ()" if cap is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"{fence}SELECT {table}.{quote('id')}{counted} FROM {source} "
            f"WHERE {condition} ORDER BY {order} LIMIT {int(wanted)}",
            (*params, *condition_params),
        )
        rows = cursor.fetchall()
    if cap is not None and rows and rows[0][1] >= cap:
        return None
    return [row[0] for row in rows]

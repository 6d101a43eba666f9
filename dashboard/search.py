"""A search's page: each part of the list (top-level runs, steps) searched on its own
indexes, the newest runs walked first.

PostgreSQL plans `name ILIKE '%…%'` from a row estimate: a part of a name that many runs
have (one in a hundred) can be planned as a trigram bitmap ANDed with a bitmap of every
top-level run, then sorted: 60-80 ms at 10 M runs, where walking the newest runs in the
list's order finds a page in a few thousand rows. The walk is made certain, and bounded, by
reading the search from a subquery of the first PROBE runs in order: PostgreSQL runs it
lazily and stops at a page. A rarer part of a name (fewer matches than a page in them) is
looked up among the names runs have had (instances.models.RunName: thousands, where runs are
millions), and the runs of the names found are read by their name index. A trigram index of
the runs themselves is no help there: the bitmap of a part of a name is as long as the runs
holding its commonest trigram (150 ms at 10 M runs that share "nightly load"). The parts'
finds are put in order by the database, as the list's keyset paging needs.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet

from instances.models import Instance, RunName

PROBE = 5000  # runs walked, newest first in the list's order, before the names are asked
NAMES = 100  # names whose runs a search reads by name; more, and the part of a name is common


def matching(q: str) -> Q:
    """What the search box finds: a vendor id, or part of a name."""
    return Q(external_id=q) | Q(name__icontains=q)


def first(parts: list[QuerySet[Instance]], q: str, wanted: int) -> list[Instance]:
    """The first `wanted` runs matching `q` of these ordered parts of one list."""
    found: set[int] = set()
    for part in parts:
        found.update(
            among_first(part, matching(q), wanted)
            or part.filter(by_names(q)).values_list("pk", flat=True)[:wanted]
        )
    ordered = parts[0].model.objects.filter(pk__in=found).order_by(*parts[0].query.order_by)
    return list(ordered.select_related("backend", "parent")[:wanted])


def by_names(q: str) -> Q:
    """`matching(q)` as the names runs have had read it: the vendor id, or one of the names
    holding `q` (PostgreSQL keeps them; SQLite, which scans its runs anyway, does not)."""
    if connection.vendor != "postgresql":
        return matching(q)
    names = list(
        RunName.objects.filter(name__icontains=q)
        .values_list("name", flat=True)
        .distinct()[: NAMES + 1]
    )
    if len(names) > NAMES:
        return matching(q)
    return Q(external_id=q) | Q(name__in=names)


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

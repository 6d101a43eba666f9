"""The run list's plans on PostgreSQL: every filter, search and sort it offers can be served by
an index, so none has to read the whole instance table (issue 15). Sequential scans are
priced out for the test (the table is small, where a scan is honestly cheapest); a query no
index can serve still gets one, and fails."""

import re

import pytest
from django.db import connection
from django.db.models import Count
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from dashboard.filters import SORTS, RunFilter
from instances.models import Instance
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's"),
]
CASES = [
    "",
    "window=all",
    "window=all&status=FAILED",
    "window=all&owner=nobody",
    "window=all&definition=nightly",
    "window=all&q=warehouse",
    "window=all&q=r-123",
    "window=all&q=no-such-thing",
    "window=7d&backend=1",
    "window=all&steps=1",
    "window=all&signature=ORA-<n>",
    "window=all&q=warehouse&steps=1",
    *(f"window=all&sort={sort}" for sort in SORTS),
]


@pytest.fixture
def member():
    backend = BackendFactory()
    for n in range(300):
        InstanceFactory(
            backend=backend,
            name=f"load warehouse {n}",
            owner=f"owner {n % 7}",
            external_id=f"r-{n}",
            definition_id=str(n % 11),
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE instances_instance")
    return UserFactory(teams=[backend.team])


def plan(user, query: str) -> str:
    chosen = RunFilter.from_query(QueryDict(query))
    field, descending = SORTS[chosen.sort]
    sign = "-" if descending else ""
    runs = chosen.apply(Instance.objects.visible_to(user)).order_by(f"{sign}{field}", f"{sign}id")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return runs[:51].explain()


@pytest.mark.parametrize("query", CASES)
def test_no_run_list_query_reads_the_whole_instance_table(member, query):
    shown = plan(member, query)
    assert "Seq Scan on instances_instance" not in shown, shown


@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_pages_in_index_order_without_sorting_the_table(member, sort):
    everyone = UserFactory(is_superuser=True)  # no team filter: the widest list there is
    shown = plan(everyone, f"window=all&sort={sort}")
    assert "Sort Key" not in shown and "Seq Scan on instances_instance" not in shown, shown


def test_each_part_of_a_search_has_a_trigram_index_on_what_django_compares(member):
    """Django's icontains compares UPPER(name::text) LIKE UPPER(…): each part's partial
    trigram index must index that very expression under that part's condition, or it is
    never used (which plan wins on a big table is the planner's call, benched at scale)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE "
            "'instance_%_name_trgm_idx'"
        )
        indexes = dict(cursor.fetchall())
    for part, index, condition in (
        (True, "root", "(parent_id IS NULL)"),
        (False, "step", "(parent_id IS NOT NULL)"),
    ):
        sql = str(Instance.objects.filter(parent__isnull=part, name__icontains="x").query)
        assert 'UPPER("instances_instance"."name"::text) LIKE UPPER(' in sql, sql
        definition = indexes[f"instance_{index}_name_trgm_idx"]
        assert definition.endswith(f"gin (upper((name)::text) gin_trgm_ops) WHERE {condition}")


def test_the_failure_inbox_groups_from_the_failed_root_index(member):
    """Its grouping reads the failed top-level runs of the window through an index (which
    one, on a table this small, is the planner's choice), and the signature filter is a
    column, not a Python pass."""
    Instance.objects.filter(pk__in=Instance.objects.all()[:30].values("pk")).update(
        status="FAILED", failure_signature="ORA-<n>"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE instances_instance")
        cursor.execute("SET LOCAL enable_seqscan = off")
    for user in (member, UserFactory(is_superuser=True)):
        failed = (
            RunFilter.from_query(QueryDict("window=7d&status=FAILED&roots=1"))
            .apply(Instance.objects.visible_to(user))
            .order_by()
        )
        grouped = (
            failed.values("backend_id", "definition_id", "failure_signature")
            .annotate(n=Count("pk"))
            .explain()
        )
        assert "Seq Scan on instances_instance" not in grouped, grouped
    signed = (
        RunFilter.from_query(QueryDict("window=all&signature=ORA-<n>"))
        .apply(Instance.objects.visible_to(member))
        .order_by("-run_at", "-id")[:51]
        .explain()
    )
    assert "Seq Scan on instances_instance" not in signed, signed


BIG_TABLES = ("instances_instance", "instances_rollup", "instances_statusrollup", "instances_edge")


@pytest.mark.parametrize(
    "url",
    [
        "/?window=30d",
        "/failures/?window=30d",
        "/runs/?window=all",
        "/runs/?window=all&q=warehouse&steps=1",
    ],
)
def test_no_query_of_the_landing_pages_reads_a_whole_big_table(client, member, url):
    """Every query the overview, the failure inbox and the run list send (rollups, grouping,
    streaks, stuck runs) is served by an index: EXPLAINed with sequential scans priced out."""
    from django.test.utils import CaptureQueriesContext

    from instances import rollups

    Instance.objects.filter(pk__in=Instance.objects.all()[:30].values("pk")).update(
        status="FAILED", failure_signature="ORA-<n>"
    )
    Instance.objects.filter(
        pk__in=Instance.objects.filter(status="SUCCEEDED")[:30].values("pk")
    ).update(status="RUNNING")
    rollups.rebuild()
    client.force_login(member)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as sent:
        assert client.get(url).status_code == 200
    reads = [
        q["sql"]
        for q in sent
        if q["sql"].startswith("SELECT") and any(table in q["sql"] for table in BIG_TABLES)
    ]
    assert reads
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in reads:
            cursor.execute(f"EXPLAIN {sql}")
            shown = "\n".join(row[0] for row in cursor.fetchall())
            for table in BIG_TABLES:
                assert f"Seq Scan on {table}" not in shown, (sql, shown)


@pytest.mark.parametrize("more", [0, 50_000], ids=["300 runs", "50,300 runs"])
def test_the_inbox_streak_walks_the_definition_index_whatever_the_size(member, more):
    """Failures in a row read the definition's own entries of (backend, definition, run_at),
    a LIMITed page at a time: never the bitmap AND of three indexes the planner chose at 1 M
    runs for the correlated count that was here (1.5 ms a group), at either table size."""
    from instances import failures

    run = Instance.objects.filter(definition_id="3").order_by("-run_at").first()
    if more:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO instances_instance (backend_id, external_id, kind, name,
                    definition_id, definition_name, status, vendor_status, flags, run_at,
                    owner, executor, cycle, log_locator, error_message, fingerprint,
                    first_seen, last_seen, status_changed_at, updated_at, failure_signature)
                SELECT backend_id, 'x' || n, kind, name, (n %% 700)::text, '', status,
                    vendor_status, flags, run_at - n * interval '1 minute', owner, executor,
                    cycle, '', '', fingerprint, first_seen, last_seen, status_changed_at,
                    updated_at, ''
                FROM instances_instance, generate_series(1, %s) AS n WHERE id = %s""",
                [more, run.pk],
            )
            cursor.execute("ANALYZE instances_instance")
    with CaptureQueriesContext(connection) as sent:
        failures.streaks([run])
    (walk,) = [q["sql"] for q in sent]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {walk}")
        explained = "\n".join(row[0] for row in cursor.fetchall())
    assert "Limit" in explained and "instance_definition_idx" in explained, explained
    assert "BitmapAnd" not in explained and "Seq Scan" not in explained, explained
    other = [name for name in re.findall(r"using (\w+)|on (\w+_idx)", explained) if any(name)]
    assert {n for pair in other for n in pair if n} == {"instance_definition_idx"}, explained


@pytest.mark.parametrize("steps", ["", "&steps=1"], ids=["top-level", "steps too"])
@pytest.mark.parametrize("more", [0, 50_000], ids=["300 runs", "50,300 runs"])
def test_a_rare_part_of_a_name_reads_its_runs_by_name_whatever_the_size(
    client, member, more, steps
):
    """A part of a name too rare for a page among the newest runs is looked up among the
    names runs have had, and its runs are read by name: never the runs' own trigram index,
    whose bitmap at 10 M runs is as long as the commonest trigram's (150 ms), nor a walk of
    the list's order in the hope of meeting them (2.8 s through 8 M steps at 10 M runs, for a
    name no step has)."""
    with connection.cursor() as cursor:
        cursor.execute(  # half top-level runs, half steps named otherwise
            """
            INSERT INTO instances_instance (backend_id, external_id, kind, name, parent_id,
                definition_id, definition_name, status, vendor_status, flags, run_at,
                owner, executor, cycle, log_locator, error_message, fingerprint,
                first_seen, last_seen, status_changed_at, updated_at)
            SELECT backend_id, 'x' || n, kind,
                CASE WHEN n %% 2 = 0 THEN 'step ' || (n %% 4)
                    ELSE 'load warehouse ' || (n %% 700) END,
                CASE WHEN n %% 2 = 0 THEN id END, '', '', status, vendor_status, flags,
                run_at - n * interval '1 minute', owner, executor, cycle, '', '', fingerprint,
                first_seen, last_seen, status_changed_at, updated_at
            FROM instances_instance, generate_series(1, %s) AS n
            WHERE id = (SELECT min(id) FROM instances_instance)""",
            [more],
        )
        cursor.execute("ANALYZE")
    client.force_login(member)
    with CaptureQueriesContext(connection) as sent:
        page = client.get(f"/runs/?window=all&q=warehouse%20299{steps}")
    assert page.status_code == 200 and "load warehouse 299" in page.text
    reads = [q["sql"] for q in sent if "instances_instance" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the table is small: priced out
        explained = {}
        for sql in reads:
            cursor.execute(f"EXPLAIN {sql}")
            explained[sql] = "\n".join(row[0] for row in cursor.fetchall())
    shown = "\n\n".join(explained.values())
    assert "name_idx" in shown, shown
    assert "name_trgm_idx on instances_instance" not in shown, shown
    every_match = [plan for sql, plan in explained.items() if "MATERIALIZED" in sql]
    assert every_match and not any("run_at_idx" in plan for plan in every_match), shown

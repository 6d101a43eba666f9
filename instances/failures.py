"""What failed each failed run: its culprit step (the first failure with no failed step
upstream) and the error signature that groups it with failures alike. Sync stores a failed
top-level run's signature (`sign`) when it stores the run and its steps; the failure inbox
groups by it in SQL and the run list filters by it, so a group's count and its link agree."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q

from instances import errors
from instances.models import Edge, Instance, InstanceQuerySet, Status
from instances.status import CULPRITS, TERMINAL, culprits

SIGN_BATCH = 500  # failed runs signed at a time
STREAK_MOST = 1000  # runs of a definition walked back for its failures in a row, at most
STREAK_PAGE = 25  # read at a time: most streaks end within the first
UNSIGNED = Q(parent__isnull=True, status=Status.FAILED, failure_signature__isnull=True)
FIELDS = ("name", "definition_id", "definition_name", "run_at", "error_message", "vendor_status")


def culprit_steps(failed: list[Instance]) -> dict[int, Instance]:
    """Failed run's pk → the step that failed it, for the runs that have failed steps."""
    steps: dict[int, list[Instance]] = defaultdict(list)
    children = Instance.objects.filter(parent__in=[r.pk for r in failed], status__in=CULPRITS)
    for child in children.only(*FIELDS, "parent", "status", "started_at").order_by(
        "started_at", "id"
    ):
        steps[child.parent_id or 0].append(child)  # a child always has one
    # edges between failed steps only: they decide which failure came first (the culprit)
    edges = defaultdict(list)
    for parent, up, down in Edge.objects.filter(
        parent__in=steps, upstream__status__in=CULPRITS, downstream__status__in=CULPRITS
    ).values_list("parent", "upstream", "downstream"):
        edges[parent].append((up, down))
    return {pk: culprits(Status.FAILED, kids, edges[pk])[0] for pk, kids in steps.items()}


def error_of(run: Instance, culprit: Instance | None) -> str:
    """The error that tells why the run failed: its culprit's, else its own."""
    return (culprit.error_message if culprit else "") or run.error_message


def sign(failed: list[Instance]) -> None:
    """Store the error signature of these failed top-level runs."""
    steps = culprit_steps(failed)
    alike = defaultdict(list)  # a page's failures share a few signatures: one UPDATE each
    for run in failed:
        alike[errors.signature(error_of(run, steps.get(run.pk)))[:200]].append(run.pk)
    for signature, pks in alike.items():
        Instance.objects.filter(pk__any=pks).update(failure_signature=signature)


def unsign(pks: list[int]) -> None:
    """These top-level runs do not fail (any more: a rerun): no signature."""
    if pks:
        Instance.objects.filter(pk__any=pks, failure_signature__isnull=False).update(
            failure_signature=None
        )


def sign_unsigned(runs: InstanceQuerySet) -> None:
    """Sign the failed top-level runs among `runs` stored before signatures were kept (or
    written without sync): none, once sync has run."""
    # almost always none are left: asked of their own index alone first (with a reader's
    # filters on top, PostgreSQL walked every failed run of the window to find none, ~7 ms)
    if not Instance.objects.filter(UNSIGNED).exists():
        return
    unsigned = runs.filter(UNSIGNED).only(*FIELDS, "status")
    while batch := list(unsigned[:SIGN_BATCH]):
        sign(batch)


def with_signature(runs: InstanceQuerySet, signature: str) -> InstanceQuerySet:
    """The failed top-level runs among `runs` whose error has this signature ("" for those
    without an error message)."""
    sign_unsigned(runs)
    return runs.filter(parent__isnull=True, status=Status.FAILED, failure_signature=signature)


def streaks(runs: list[Instance]) -> dict[int, int]:
    """Failures in a row of each run's definition, ending with that run: its top-level runs
    from it back, newest first, counted until one that finished without failing (one still
    running breaks nothing). Each is a walk down the definition index, a page at a time and
    at most STREAK_MOST entries, whatever the table's size or the planner's estimates; every
    run's first page comes in one statement on PostgreSQL."""
    pages = first_pages(runs)
    return {run.pk: counted(run, pages.get(run.pk)) for run in runs}


def history(run: Instance) -> InstanceQuerySet:
    return Instance.objects.filter(
        backend_id=run.backend_id, definition_id=run.definition_id, parent__isnull=True
    ).order_by("-run_at")


@dataclass(frozen=True)
class Page:
    statuses: list[str]  # newest first
    oldest: datetime | None  # where the next page starts


# Every run's first page in one statement: a LIMITed walk of the definition index per run,
# folded to one row a run (its statuses newest first, and the oldest time, where a next page
# would start): a hundred times, not 2,500, are read back.
FIRST_PAGES = """
SELECT g.tag, w.statuses, w.oldest
FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::timestamptz[])
     AS g(tag, backend_id, definition_id, run_at)
CROSS JOIN LATERAL (
    SELECT array_agg(p.status ORDER BY p.run_at DESC) AS statuses, min(p.run_at) AS oldest
    FROM (
        SELECT i.run_at, i.status FROM instances_instance i
        WHERE i.backend_id = g.backend_id AND i.definition_id = g.definition_id
          AND i.parent_id IS NULL AND i.run_at <= g.run_at
        ORDER BY i.run_at DESC LIMIT %s
    ) AS p
) AS w
"""


def first_pages(runs: list[Instance]) -> dict[int, Page]:
    """Each run's first page: one statement on PostgreSQL, a query a run elsewhere."""
    if connection.vendor != "postgresql":
        return {run.pk: page_of(history(run).filter(run_at__lte=run.run_at)) for run in runs}
    columns: list[list] = [[r.pk for r in runs], [r.backend_id for r in runs]]
    columns += [[r.definition_id for r in runs], [r.run_at for r in runs]]
    with connection.cursor() as cursor:
        cursor.execute(FIRST_PAGES, [*columns, STREAK_PAGE])
        return {tag: Page(statuses or [], oldest) for tag, statuses, oldest in cursor.fetchall()}


def page_of(walk: InstanceQuerySet) -> Page:
    read = list(walk.values_list("run_at", "status")[:STREAK_PAGE])
    return Page([status for _, status in read], read[-1][0] if read else None)


def counted(run: Instance, page: Page | None) -> int:
    streak, walked = 0, 0
    while page is not None:
        for status in page.statuses:
            if status == Status.FAILED:
                streak += 1
            elif status in TERMINAL:
                return streak
        walked += len(page.statuses)
        if len(page.statuses) < STREAK_PAGE or walked >= STREAK_MOST:
            return streak
        page = page_of(history(run).filter(run_at__lt=page.oldest))  # the next, by keyset
    return streak

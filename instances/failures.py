"""What failed each failed run: its culprit step (the first failure with no failed step
upstream) and the error signature that groups it with failures alike. Sync stores a failed
top-level run's signature (`sign`) when it stores the run and its steps; the failure inbox
groups by it in SQL and the run list filters by it, so a group's count and its link agree."""

from collections import defaultdict

from instances import errors
from instances.models import Edge, Instance, InstanceQuerySet, Status
from instances.status import CULPRITS, culprits

SIGN_BATCH = 500  # failed runs signed at a time
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
        Instance.objects.filter(pk__in=pks).update(failure_signature=signature)


def unsign(pks: list[int]) -> None:
    """These top-level runs do not fail (any more: a rerun): no signature."""
    if pks:
        Instance.objects.filter(pk__in=pks, failure_signature__isnull=False).update(
            failure_signature=None
        )


def sign_unsigned(runs: InstanceQuerySet) -> None:
    """Sign the failed top-level runs among `runs` stored before signatures were kept (or
    written without sync): none, once sync has run."""
    unsigned = runs.filter(
        parent__isnull=True, status=Status.FAILED, failure_signature__isnull=True
    ).only(*FIELDS, "status")
    while batch := list(unsigned[:SIGN_BATCH]):
        sign(batch)


def with_signature(runs: InstanceQuerySet, signature: str) -> InstanceQuerySet:
    """The failed top-level runs among `runs` whose error has this signature ("" for those
    without an error message)."""
    sign_unsigned(runs)
    return runs.filter(parent__isnull=True, status=Status.FAILED, failure_signature=signature)

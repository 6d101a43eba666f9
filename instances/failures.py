"""What failed each failed run: its culprit step (the first failure with no failed step
upstream) and the error signature that groups it with failures alike. The failure inbox groups
by it and the run list filters by it, so a group's count and its link agree."""

from collections import defaultdict

from instances import errors
from instances.models import Edge, Instance, InstanceQuerySet, Status
from instances.status import CULPRITS, culprits

FAILED_RUNS = 500  # the newest failed runs looked at: the inbox's reach, and the filter's
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


def with_signature(runs: InstanceQuerySet, signature: str) -> InstanceQuerySet:
    """The newest FAILED_RUNS failed top-level runs among `runs` whose error has this
    signature ("" for those without an error message)."""
    failed = list(runs.roots().filter(status=Status.FAILED).only(*FIELDS)
                  .order_by("-run_at")[:FAILED_RUNS])  # fmt: skip
    steps = culprit_steps(failed)
    alike = [run.pk for run in failed
             if errors.signature(error_of(run, steps.get(run.pk))) == signature]  # fmt: skip
    return runs.filter(pk__in=alike)

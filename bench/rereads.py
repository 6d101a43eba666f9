"""Re-read benchmark: what reading finished runs again costs (runs change after they end).

    .venv/bin/python -m bench.rereads [--runs-per-day 10000] [--polls 120]

One backend holding a week of top-level runs at `--runs-per-day` (12 % failed, a few
running), polled once a minute. Each poll asks `known.to_read_again` which runs to read again
by id after the list (unfinished ones the list did not show, and `finished_rereads` ended
ones, least recently seen first), then marks them seen, as a poll does. Prints the extra
detail reads and vendor calls a poll makes for finished runs (and, apart, for unfinished
ones, which are in flight and read whatever) (Airflow: 2 calls a run, the run and its task
instances), the query's time, and how long until every run of each re-read window has been
read again once.
Targets (instances/vendors/airflow/README.md): ≤ 20 finished runs re-read a poll, i.e. ≤ 40
extra Airflow calls; the query p95 ≤ 50 ms.
"""

import argparse
import random
import time
from datetime import timedelta

from bench.setup import django_on_postgres, percentile, verdict

CALLS_PER_REREAD = 2  # Airflow: GET the run, GET its task instances (the DAG is cached)


def load(runs_per_day: int, now):
    from django.contrib.auth.models import Group

    from instances.models import Backend, Instance, Status

    Backend.objects.filter(name="bench-rereads").delete()
    team, _ = Group.objects.get_or_create(name="bench-rereads")
    backend = Backend.objects.create(
        name="bench-rereads", kind="airflow", base_url="http://bench.invalid", team=team
    )
    spacing = timedelta(days=1) / runs_per_day
    rng = random.Random(7)
    rows = []
    for n in range(runs_per_day * 7):
        at = now - n * spacing
        ended = at + timedelta(minutes=rng.randint(2, 30))
        running = ended > now
        status = (
            Status.RUNNING
            if running
            else rng.choices([Status.SUCCEEDED, Status.FAILED], [88, 12])[0]
        )
        seen = now if running else ended  # a finished run was last read when it ended
        rows.append(
            Instance(
                backend=backend,
                external_id=f"dag_{n % 300}/scheduled__{at.isoformat()}",
                kind="flow",
                name=f"dag_{n % 300}",
                status=status,
                run_at=at,
                started_at=at,
                finished_at=None if running else ended,
                first_seen=at,
                last_seen=seen,
                status_changed_at=seen,
                updated_at=seen,
            )
        )
    Instance.objects.bulk_create(rows, batch_size=5000)
    return backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs-per-day", type=int, default=10_000)
    parser.add_argument("--polls", type=int, default=120)
    args = parser.parse_args()
    django_on_postgres()
    from django.utils import timezone

    from instances import known
    from instances.models import Instance, Status
    from instances.registry import CONNECTORS

    finished = CONNECTORS["airflow"].finished_rereads
    now = timezone.now()
    backend = load(args.runs_per_day, now)
    failed_week = set(
        backend.instances.filter(status=Status.FAILED).values_list("external_id", flat=True)
    )
    last_hour = set(
        backend.instances.filter(run_at__gte=now - known.LATELY).values_list(
            "external_id", flat=True
        )
    )
    reads, times, reread = [], [], set()
    covered: dict[str, int] = {}
    try:
        for poll in range(1, args.polls + 1):
            started = now + timedelta(minutes=poll)
            began = time.perf_counter()
            again = known.to_read_again(backend, started, finished)
            times.append((time.perf_counter() - began) * 1000)
            Instance.objects.filter(backend=backend, external_id__in=again).update(
                last_seen=started
            )
            unfinished = Instance.objects.filter(
                backend=backend, external_id__in=again, status__in=known.UNFINISHED
            ).count()
            reads.append((len(again) - unfinished, unfinished))
            reread |= set(again)
            for name, window in (("failed in 7 days", failed_week), ("last hour", last_hour)):
                if name not in covered and window <= reread:
                    covered[name] = poll
    finally:
        backend.delete()
    ended = max(done for done, _ in reads)
    in_flight = max(running for _, running in reads)
    print(f"re-reads, {args.runs_per_day:,} runs a day, {args.polls} polls a minute apart")
    print(
        f"  {verdict(ended, finished, higher_is_better=False)} finished runs re-read a poll: "
        f"max {ended} (target ≤ {finished})"
    )
    calls = ended * CALLS_PER_REREAD
    print(
        f"  {verdict(calls, finished * CALLS_PER_REREAD, higher_is_better=False)} extra Airflow "
        f"calls a poll for them: max {calls} (target ≤ {finished * CALLS_PER_REREAD})"
    )
    print(
        f"  INFO unfinished runs the list did not show, read by id: max {in_flight} a poll "
        f"({in_flight * CALLS_PER_REREAD} calls; at most {known.UNFINISHED_REREADS} runs)"
    )
    p95 = percentile(times, 0.95)
    print(
        f"  {verdict(p95, 50, higher_is_better=False)} to_read_again p95 {p95:.1f} ms, "
        f"p50 {percentile(times, 0.5):.1f} ms (target ≤ 50 ms)"
    )
    for name, window in (("failed in 7 days", failed_week), ("last hour", last_hour)):
        took = covered.get(name)
        said = f"{took} polls" if took else f"not within {args.polls} polls"
        print(f"  INFO every run {name} ({len(window):,}) read again once: {said}")


if __name__ == "__main__":
    main()

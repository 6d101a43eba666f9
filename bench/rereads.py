"""Re-read benchmark: what reading finished runs again costs (runs change after they end).

    .venv/bin/python -m bench.rereads [--runs-per-day 10000] [--polls 120]

One backend holding a week of finished top-level runs at `--runs-per-day` (12 % failed),
more ending as the polls go on, polled once a minute (unfinished runs, read by id whatever,
are left out). Each poll asks `known.to_read_again` which runs to read again
by id after the list (`finished_rereads` ended ones, least recently seen first), then marks
them seen, as a poll does. Prints the extra detail reads and vendor calls a poll makes for
finished runs (Airflow: 2 calls a run, the run and its task instances), the query's time,
whether the last hour's share keeps up with the runs ending, and how often a failure of the
week is read again.
Targets (instances/vendors/airflow/README.md): ≤ 20 finished runs re-read a poll, i.e. ≤ 40
extra Airflow calls; the query p95 ≤ 50 ms.
"""

import argparse
import random
import time
from datetime import timedelta

from bench.setup import django_on_postgres, percentile, verdict

CALLS_PER_REREAD = 2  # Airflow: GET the run, GET its task instances (the DAG is cached)


def load(runs_per_day: int, now, polls: int):
    from django.contrib.auth.models import Group
    from django.db import connection

    from instances.models import Backend, Instance, Status

    Backend.objects.filter(name="bench-rereads").delete()
    team, _ = Group.objects.get_or_create(name="bench-rereads")
    backend = Backend.objects.create(
        name="bench-rereads", kind="airflow", base_url="http://bench.invalid", team=team
    )
    spacing = timedelta(days=1) / runs_per_day
    rng = random.Random(7)
    rows = []
    # a week before the first poll, and the runs that start while the polls go on: each was
    # last read when it ended, so a poll before its end does not take it for ended
    ahead = int(timedelta(minutes=polls) / spacing)
    for n in range(-ahead, runs_per_day * 7):
        at = now - n * spacing
        ended = at + timedelta(minutes=rng.randint(2, 30))
        status = rng.choices([Status.SUCCEEDED, Status.FAILED], [88, 12])[0]
        rows.append(
            Instance(
                backend=backend,
                external_id=f"dag_{n % 300}/scheduled__{at.isoformat()}",
                kind="flow",
                name=f"dag_{n % 300}",
                status=status,
                run_at=at,
                started_at=at,
                finished_at=ended,
                first_seen=at,
                last_seen=ended,
                status_changed_at=ended,
                updated_at=ended,
            )
        )
    Instance.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:  # as autovacuum would have by now
        cursor.execute("ANALYZE instances_instance")
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
    backend = load(args.runs_per_day, now, args.polls)
    failed_week = backend.instances.filter(status=Status.FAILED, run_at__lte=now).count()
    ending_a_minute = args.runs_per_day / (24 * 60)
    reads, times, recent = [], [], []
    try:
        for poll in range(1, args.polls + 1):
            started = now + timedelta(minutes=poll)
            began = time.perf_counter()
            again = known.to_read_again(backend, started, finished)
            times.append((time.perf_counter() - began) * 1000)
            Instance.objects.filter(backend=backend, external_id__in=again).update(
                last_seen=started
            )
            reads.append(len(again))
            recent.append(
                Instance.objects.filter(
                    backend=backend,
                    external_id__in=again,
                    status__in=known.TERMINAL,
                    run_at__gte=started - known.LATELY,
                ).count()
            )
    finally:
        backend.delete()
    ended = max(reads)
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
    p95 = percentile(times, 0.95)
    print(
        f"  {verdict(p95, 50, higher_is_better=False)} to_read_again p95 {p95:.1f} ms, "
        f"p50 {percentile(times, 0.5):.1f} ms (target ≤ 50 ms)"
    )
    # the last hour's share keeps up when it reads more a minute than end in one
    lately = sum(recent) / len(recent)
    print(
        f"  {verdict(lately, ending_a_minute)} the last hour's runs re-read a poll: "
        f"{lately:.1f} (runs ending a minute: {ending_a_minute:.1f}): each is read again "
        "soon after it ends"
    )
    older = sum(reads) / len(reads) - lately
    cycle = failed_week / older if older else float("inf")
    print(
        f"  INFO the week's {failed_week:,} failures: {older:.1f} re-read a poll, each read "
        f"again about every {cycle / 60:.1f} h"
    )


if __name__ == "__main__":
    main()

"""Retention benchmark: pruning the oldest runs of the page bench's data set, in batches.

    .venv/bin/python -m bench.retention [--days 290]

Run after `bench.pages --instances N` (it reuses that data set: 20 % top-level runs spread
13 s apart, about 300 days at 10 M). Prunes (instances.retention.prune) the runs older than
`--days` inside a transaction that is then rolled back, so the data set stays as loaded,
while another process lists the newest runs as a team member does (pruning must never
block readers). Prints what the table and its indexes weigh per run.
Target: a day of runs at the rate a 10 M table holds for 90 days (110,000) pruned in ≤ 60 s,
i.e. ≥ 1,850 runs/s; the list read alongside p95 ≤ 50 ms.
"""

import argparse
import multiprocessing
import time

from bench.setup import django_on_postgres, percentile, verdict


def sizes() -> tuple[int, int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_table_size('instances_instance'), pg_indexes_size("
            "'instances_instance'), count(*) FROM instances_instance"
        )
        return cursor.fetchone()


def reader(stop, times) -> None:
    """The run list's first page, read over and over in a process of its own, as a web
    worker would while a Celery worker prunes."""
    django_on_postgres()
    from django.contrib.auth.models import User

    from instances.models import Instance

    user = User.objects.get(username="bench-member")
    while not stop.is_set():
        began = time.perf_counter()
        list(Instance.objects.visible_to(user).roots().order_by("-run_at", "-id")[:51])
        times.append((time.perf_counter() - began) * 1000)
        stop.wait(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=290)
    args = parser.parse_args()
    django_on_postgres()
    from django.db import transaction

    from instances import retention

    table, indexes, rows = sizes()
    print(
        f"data set: {rows:,} runs; table {table / 2**30:.1f} GB, indexes "
        f"{indexes / 2**30:.1f} GB, {(table + indexes) / rows:.0f} bytes a run"
    )
    spawn = multiprocessing.get_context("spawn")
    stop, read = spawn.Event(), spawn.Manager().list()
    watcher = spawn.Process(target=reader, args=(stop, read))
    watcher.start()
    while not read:  # the reader is up
        time.sleep(0.05)
    try:
        with transaction.atomic():
            began = time.perf_counter()
            removed = retention.prune(args.days)
            spent = time.perf_counter() - began
            transaction.set_rollback(True)  # the data set stays for bench.pages
    finally:
        stop.set()
        watcher.join()
    rate, label = removed / spent, f"prune, older than {args.days} days"
    print(
        f"{label:<38} {removed:,} runs in {spent:.1f} s: {rate:,.0f} runs/s  "
        f"target ≥ 1,850  {verdict(rate, 1850)}"
    )
    read = list(read)
    p50, p95 = percentile(read, 0.5), percentile(read, 0.95)
    ok = verdict(p95, 50, higher_is_better=False)
    print(
        f"{'run list read meanwhile':<38} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
        f"({len(read)} reads)  target ≤ 50  {ok}"
    )


if __name__ == "__main__":
    main()

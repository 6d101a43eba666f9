"""Ingest benchmark: how fast sync stores runs in PostgreSQL, against a raw COPY of the same rows.

    .venv/bin/python -m bench.ingest [--rows 50000] [--batch 1000]

Targets (issue 8): sync ≥ 10,000 instance upserts/s; a steady-state poll of a backend with
100,000 stored instances of which 1% changed ≤ 1 s, with a query count independent of the
100,000. End to end is printed beside what reading the emulator alone reaches on the same
machine (the emulator is a process of its own, on the same cores): its ceiling here.
"""

import argparse
import random
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from bench.setup import ROOT, django_on_postgres, verdict


def synthetic_records(count: int, seed: int = 1):
    from instances.connectors.base import RunRecord
    from instances.status import Kind, Status

    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    statuses = list(Status)
    for n in range(count):
        began = start + timedelta(seconds=n)
        yield RunRecord(
            external_id=f"bench-{n}",
            kind=Kind.FLOW,
            name=f"nightly load {n % 500}",
            status=rng.choice(statuses),
            vendor_status="2",
            definition_id=str(n % 500),
            definition_name=f"nightly load {n % 500}",
            planned_at=began,
            started_at=began,
            finished_at=began + timedelta(minutes=5),
            attempts=1,
            owner="ops",
            executor="10.0.0.1",
            cycle="D",
            log_locator=f"bench-{n}",
            raw={"instanceId": f"bench-{n}", "payload": "x" * 1000},
        )


def measure_sync(rows: int, batch: int) -> tuple[float, float, int]:
    """Rows/s through sync.store_page (fingerprints, lookups, upsert, transitions): first
    sighting, then a re-poll where every run changed status; and queries per page."""
    from dataclasses import replace

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from instances import sync
    from instances.models import Backend, Instance, Poll, StatusChange
    from instances.status import Status

    backend, _ = Backend.objects.get_or_create(
        name="bench-ingest", defaults={"kind": "ocp", "base_url": "http://127.0.0.1"}
    )
    StatusChange.objects.filter(instance__backend=backend)._raw_delete(connection.alias)
    Instance.objects.filter(backend=backend)._raw_delete(connection.alias)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE instances_instance")
    poll = Poll.objects.create(backend=backend, started_at=timezone.now())
    connector = sync.connector_for(backend)  # never called: the records come with children
    first = [replace(r, has_children=True) for r in synthetic_records(rows)]
    again = [replace(r, status=Status.SUCCEEDED, vendor_status="4") for r in first]
    rates = []
    for records in (first, again):
        began = time.perf_counter()
        for start in range(0, rows, batch):
            with CaptureQueriesContext(connection) as queries:
                sync.store_page(backend, connector, records[start : start + batch], poll)
        rates.append(rows / (time.perf_counter() - began))
    return rates[0], rates[1], len(queries)


def measure_alerting(rows: int, batch: int) -> tuple[float, float, int, int]:
    """What alert rules cost sync: rows/s of a re-poll where every run changed and 1% just
    failed, without then with a failure rule (and a webhook channel) on the backend; queries
    per page with the rule; alerts fired."""
    from dataclasses import replace

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from instances import sync
    from instances.alerts.models import Alert, AlertRule, Channel
    from instances.models import Backend, Instance, Poll, StatusChange
    from instances.status import Status

    team, _ = Group.objects.get_or_create(name="bench-alerting")
    backend, _ = Backend.objects.get_or_create(
        name="bench-alerting",
        defaults={"kind": "ocp", "base_url": "http://127.0.0.1", "team": team},
    )
    AlertRule.objects.filter(team=team).delete()
    Channel.objects.filter(team=team).delete()
    # an alert's message links to its pages: a worker loads the URL conf once in its life
    # (1.3 s here), not within the first page it stores
    reverse("runs")
    now = timezone.now()
    records = [
        replace(r, has_children=True, started_at=now, planned_at=now)
        for r in synthetic_records(rows, seed=2)
    ]
    rates, queries = [], 0
    for rules in (False, True):
        StatusChange.objects.filter(instance__backend=backend)._raw_delete(connection.alias)
        Instance.objects.filter(backend=backend)._raw_delete(connection.alias)
        if rules:
            hook = Channel(team=team, name="bench hook", kind="webhook")
            hook.target = "http://127.0.0.1:9/hook"
            hook.save()
            AlertRule.objects.create(team=team, name="failures", kind="failed").channels.add(hook)
        poll = Poll.objects.create(backend=backend, started_at=now)
        connector = sync.connector_for(backend)  # never called: the records come with children
        first = [replace(r, status=Status.RUNNING, vendor_status="1") for r in records]
        for start in range(0, rows, batch):
            sync.store_page(backend, connector, first[start : start + batch], poll)
        ended = [
            replace(
                r, status=Status.FAILED if n % 100 == 0 else Status.SUCCEEDED, vendor_status="3"
            )
            for n, r in enumerate(records)
        ]
        began = time.perf_counter()
        for start in range(0, rows, batch):
            with CaptureQueriesContext(connection) as captured:
                sync.store_page(backend, connector, ended[start : start + batch], poll)
            queries = max(queries, len(captured))
        rates.append(rows / (time.perf_counter() - began))
    return rates[0], rates[1], queries, Alert.objects.filter(rule__team=team).count()


def measure_copy(rows: int) -> float:
    """The same rows through COPY into an unindexed copy of the table: the ceiling."""
    from django.db import connection
    from django.utils import timezone

    from instances import writing

    records = list(synthetic_records(rows))
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(
            "CREATE TEMP TABLE bench_copy AS SELECT * FROM instances_instance WITH NO DATA"
        )
        columns = ", ".join(writing.COLUMNS)
        began = time.perf_counter()
        with cursor.cursor.copy(f"COPY bench_copy ({columns}) FROM STDIN") as copy:
            for r in records:
                copy.write_row(
                    [
                        1,
                        r.external_id,
                        r.kind,
                        None,
                        r.name,
                        r.definition_id,
                        r.definition_name,
                        r.status,
                        r.vendor_status,
                        "[]",
                        r.planned_at,
                        r.started_at,
                        r.finished_at,
                        r.finished_at - r.started_at,
                        r.started_at,
                        r.attempts,
                        r.owner,
                        r.executor,
                        r.cycle,
                        None,
                        r.log_locator,
                        "",
                        '{"payload": "' + "x" * 1000 + '"}',
                        "f" * 32,
                        now,
                        now,
                        now,
                        now,
                        None,
                    ]
                )
        return rows / (time.perf_counter() - began)


class WindowConnector:
    """An in-process vendor: flows of five runs each; the list shows the newest `window`."""

    def __init__(self, flows: int, window: int):
        from dataclasses import replace

        from instances.connectors.base import RunRecord
        from instances.status import Kind, Status

        self.replace = replace
        self.roots = [
            replace(r, definition_id=str(n % 300)) for n, r in enumerate(synthetic_records(flows))
        ]
        self.children = {
            root.external_id: [
                RunRecord(
                    external_id=f"{root.external_id}.{k}",
                    kind=Kind.TASK,
                    name=f"step {k}",
                    status=Status.SUCCEEDED,
                    vendor_status="success",
                    parent_id=root.external_id,
                    started_at=root.started_at,
                    raw={"node": k},
                )
                for k in range(4)
            ]
            for root in self.roots
        }
        self.window = window
        self.gone: list[str] = []  # what sync reads back after each page, as of a Connector
        self.skipped: list[str] = []
        self.finished_rereads = 20

    def iter_pages(self, since):
        listed = self.roots[-self.window :]
        for start in range(0, len(listed), 500):
            yield listed[start : start + 500]

    def expand(self, records):
        out = []
        for record in records:
            out += [self.replace(record, has_children=True), *self.children[record.external_id]]
        return out

    def refresh(self, external_ids):
        wanted = set(external_ids)
        return [r for r in self.roots if r.external_id in wanted]


def measure_steady(instances: int, window: int) -> tuple[float, int, int]:
    """Seconds and queries of one poll after 1% of the stored runs changed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from instances import sync
    from instances.models import Backend, Poll
    from instances.status import Status

    Backend.objects.filter(name="bench-steady").delete()
    backend = Backend.objects.create(name="bench-steady", kind="ocp", base_url="http://x")
    vendor = WindowConnector(instances // 5, window)
    everything = vendor.roots
    history = Poll.objects.create(backend=backend, started_at=timezone.now())
    for start in range(0, len(everything), 1000):  # stored once, before the measured poll
        sync.store_page(backend, vendor, everything[start : start + 1000], history)
    sync.run_poll(backend, vendor, Poll.objects.create(backend=backend, started_at=timezone.now()))
    changed = instances // 100 // 5  # 1% of instances, as whole flows
    for n in range(len(everything) - changed, len(everything)):
        everything[n] = vendor.replace(everything[n], status=Status.FAILED)
    poll = Poll.objects.create(backend=backend, started_at=timezone.now())
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        sync.run_poll(backend, vendor, poll)
    return time.perf_counter() - began, len(queries), poll.changed


@contextmanager
def emulator_process(definitions: int, hours: float):
    import httpx

    from instances.emulator.runner import free_port

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "emulate",
            f"--port={port}",
            "--speed=0",
            "--seed=3",
            f"--definitions={definitions}",
            f"--history-hours={hours}",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/_emulator/faults", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


def emulated_backends(base_url: str) -> list:
    """An OCP and an EnOS v2.1 backend on the emulator, not saved."""
    from instances.models import Backend
    from instances.vendors.enos_batch_v21 import demo as enos_demo
    from instances.vendors.ocp import demo as ocp_demo

    ocp = Backend(name="bench-e2e-ocp", kind="ocp", base_url=base_url)
    ocp.credentials = {"username": ocp_demo.USER, "password": ocp_demo.PASSWORD}
    enos = Backend(
        name="bench-e2e-enos",
        kind="enos_batch_v21",
        base_url=base_url,
        scope={"orgId": enos_demo.ORG_ID, "userId": enos_demo.USER_ID},
    )
    enos.credentials = {"app_key": enos_demo.APP_KEY, "app_secret": enos_demo.APP_SECRET}
    return [ocp, enos]


def measure_fetch_alone(definitions: int, hours: float) -> dict[str, float]:
    """What end to end can reach here at most: a first poll's reads (every list page, every
    run's detail) from a fresh emulator process, nothing stored; instances/s per backend."""
    from instances import sync

    with emulator_process(definitions, hours) as base_url:
        rates = {}
        for backend in emulated_backends(base_url):
            connector = sync.connector_for(backend)
            began, fetched = time.perf_counter(), 0
            for page in connector.iter_pages(None):
                detailed = [r for r in page if sync.needs_detail(r)]
                fetched += len(page) - len(detailed) + len(connector.expand(detailed))
            rates[backend.get_kind_display()] = fetched / (time.perf_counter() - began)
    return rates


def measure_end_to_end(
    definitions: int, hours: float
) -> tuple[dict[str, tuple[int, float]], float]:
    """A first poll of emulated OCP and EnOS backends over HTTP, the emulator in its own
    process as in production: per backend, instances stored and instances/s; and this
    process's peak memory."""
    import resource

    from instances import sync
    from instances.models import Backend, Instance

    with emulator_process(definitions, hours) as base_url:
        Backend.objects.filter(name__startswith="bench-e2e").delete()
        rates = {}
        for backend in emulated_backends(base_url):
            backend.save()
            began = time.perf_counter()
            sync.poll_backend(backend.pk)
            seconds = time.perf_counter() - began
            stored = Instance.objects.filter(backend=backend).count()
            rates[backend.get_kind_display()] = (stored, stored / seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return rates, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--steady", type=int, default=100_000, help="instances stored")
    parser.add_argument("--window", type=int, default=2_000, help="flows in the list window")
    parser.add_argument("--definitions", type=int, default=40, help="emulated, per vendor")
    parser.add_argument("--hours", type=float, default=24.0, help="emulated history")
    args = parser.parse_args()
    django_on_postgres()
    copy_rate = measure_copy(args.rows)
    created, changed, queries = measure_sync(args.rows, args.batch)
    print(f"raw COPY                   {copy_rate:>9,.0f} rows/s")
    for label, rate in (("sync, first sighting", created), ("sync, every run changed", changed)):
        print(
            f"{label:<26} {rate:>9,.0f} rows/s  target ≥ 10,000  {verdict(rate, 10_000)}  "
            f"({rate / copy_rate:.0%} of COPY)"
        )
    print(f"queries per page of {args.batch}   {queries:>9}")
    plain, ruled, ruled_queries, fired = measure_alerting(args.rows // 5, args.batch)
    print(
        f"every run ended, 1% failed: {plain:>9,.0f} rows/s without alert rules; "
        f"{ruled:,.0f} rows/s with one ({ruled / plain:.0%}), {ruled_queries} queries "
        f"a page at most, {fired:,} alerts  target ≥ 10,000  {verdict(ruled, 10_000)}"
    )
    alone = measure_fetch_alone(args.definitions, args.hours)
    rates, peak = measure_end_to_end(args.definitions, args.hours)
    for vendor, (stored, rate) in rates.items():
        print(
            f"end to end (emulator → PostgreSQL), {vendor}, {stored:,} instances: "
            f"{rate:,.0f} instances/s  target ≥ 5,000  {verdict(rate, 5_000)}  "
            f"(reading alone, nothing stored: {alone[vendor]:,.0f}/s)"
        )
    print(f"peak memory {peak:,.0f} MB  target < 300  {verdict(peak, 300, higher_is_better=False)}")
    for stored in (args.steady // 2, args.steady):
        seconds, queries, changed = measure_steady(stored, args.window)
        print(
            f"steady poll, {stored:,} stored, {changed} changed: {seconds * 1000:,.0f} ms, "
            f"{queries} queries  target ≤ 1,000 ms  {verdict(seconds, 1.0, higher_is_better=False)}"
        )


if __name__ == "__main__":
    main()

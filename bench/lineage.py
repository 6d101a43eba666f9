"""OpenLineage intake benchmark: events a second accepted into PostgreSQL through
POST /api/v1/lineage (checked against the spec, kept, folded into runs, stored with alert
rules on), one event a request and in batches.

    .venv/bin/python -m bench.lineage [--dags 2000] [--batch 500]

Each DAG run is 12 events: its START and FAIL, and five tasks' START and end (one FAIL with
its error, downstream ones ABORT), with parent, nominalTime and jobDependencies facets, as
Airflow's provider sends them. Target (issue 30): ≥ 2,000 events/s in batches.
"""

import argparse
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.setup import django_on_postgres, verdict

TARGET = 2000
SINGLE_DAGS = 200  # one event a request is a latency figure: this many DAG runs tell it
NAMESPACE = "bench-airflow"
TASKS = ("extract", "transform", "load", "report", "archive")
UPSTREAM = {
    "transform": "extract",
    "load": "transform",
    "report": "transform",
    "archive": "extract",
}
ENDS = {"transform": "FAIL", "load": "ABORT", "report": "ABORT"}


def facet(name: str) -> dict:
    return {
        "_producer": "https://github.com/apache/airflow/tree/providers-openlineage/2.20.3",
        "_schemaURL": f"https://openlineage.io/spec/facets/1-0-1/{name}.json#/$defs/{name}",
    }


def dag_run(n: int) -> list[dict]:
    dag_id, start = f"etl_{n % 50}", datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=n)
    dag = str(uuid.uuid4())

    def event(kind: str, run_id: str, job: str, minutes: int, facets: dict) -> dict:
        facets = {
            "nominalTime": {**facet("NominalTimeRunFacet"), "nominalStartTime": start.isoformat()},
            **facets,
        }
        return {
            "eventType": kind,
            "eventTime": (start + timedelta(minutes=minutes)).isoformat(),
            "run": {"runId": run_id, "facets": facets},
            "job": {"namespace": NAMESPACE, "name": job},
            "producer": "https://github.com/apache/airflow/tree/providers-openlineage/2.20.3",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        }

    events = [event("START", dag, dag_id, 0, {})]
    for minutes, task in enumerate(TASKS, 1):
        facets = {
            "parent": {
                **facet("ParentRunFacet"),
                "run": {"runId": dag},
                "job": {"namespace": NAMESPACE, "name": dag_id},
            }
        }
        if task in UPSTREAM:
            upstream = {"job": {"namespace": NAMESPACE, "name": f"{dag_id}.{UPSTREAM[task]}"}}
            facets["jobDependencies"] = {**facet("JobDependenciesRunFacet"), "upstream": [upstream]}
        run_id, job = str(uuid.uuid4()), f"{dag_id}.{task}"
        ended = dict(facets)
        if ENDS.get(task) == "FAIL":
            ended["errorMessage"] = {
                **facet("ErrorMessageRunFacet"),
                "message": "KeyError: 'customer_id'",
                "programmingLanguage": "python",
            }
        events += [
            event("START", run_id, job, minutes, facets),
            event(ENDS.get(task, "COMPLETE"), run_id, job, minutes + 1, ended),
        ]
    return [*events, event("FAIL", dag, dag_id, 9, {})]


def analyze() -> None:
    """Fresh planner statistics, as autovacuum keeps them: the bench deletes and inserts
    tens of thousands of rows at once, faster than autovacuum notices."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client, token: str, events: list[dict], batch: int) -> float:
    """Events a second through the intake, `batch` events a request."""
    began = time.perf_counter()
    for start in range(0, len(events), batch):
        chunk = events[start : start + batch]
        body = json.dumps(chunk if batch > 1 else chunk[0])
        answer = client.post(
            "/api/v1/lineage",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert answer.status_code == 201, answer.content[:500]
    return len(events) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dags", type=int, default=2000, help="DAG runs sent in batches")
    parser.add_argument("--batch", type=int, default=500)
    given = parser.parse_args()
    django_on_postgres()
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.test.utils import override_settings

    from instances import crypto
    from instances.alerts.models import AlertRule
    from instances.lineage.models import LineageEvent
    from instances.models import Backend

    team, _ = Group.objects.get_or_create(name="bench-lineage")
    backend, _ = Backend.objects.update_or_create(
        name="bench-lineage",
        defaults={
            "kind": "openlineage",
            "base_url": "https://airflow.example",
            "team": team,
            "scope": {"namespaces": [NAMESPACE]},
        },
    )
    token = crypto.new_key()
    backend.push_token_hash = crypto.key_hash(token)
    backend.save()
    AlertRule.objects.get_or_create(team=team, name="failures", kind="failed")
    LineageEvent.objects.filter(backend=backend).delete()
    backend.instances.all().delete()
    client = Client()
    alone = min(given.dags, SINGLE_DAGS)
    with override_settings(ALLOWED_HOSTS=["*"], RUNBOARD_LINEAGE_REQUESTS_PER_MINUTE=10**9):
        analyze()
        single = measure(client, token, [e for n in range(alone) for e in dag_run(n)], 1)
        analyze()
        batched = measure(
            client,
            token,
            [e for n in range(alone, alone + given.dags) for e in dag_run(n)],
            given.batch,
        )
    stored = backend.instances.count()
    print(f"OpenLineage intake ({stored:,} runs stored):")
    print(f"  INFO one event a request ({alone * 12:,} events): {single:,.0f} events/s")
    mark = verdict(batched, TARGET)
    print(
        f"  {mark} {given.batch} events a request ({given.dags * 12:,} events): "
        f"{batched:,.0f} events/s (target ≥ {TARGET:,})"
    )


if __name__ == "__main__":
    main()

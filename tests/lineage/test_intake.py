"""Runs pushed through OpenLineage's own client (openlineage-python's HTTP transport) into a
push backend: a DAG run and its five tasks, out of order and once repeated, stored as a poll
would store them (statuses, parent links, edges, error, culprit) with one alert; and every
hostile request refused with nothing kept."""

import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

import httpx
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    error_message_run,
    job_dependencies_run,
    nominal_time_run,
    parent_run,
)
from openlineage.client.serde import Serde
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

from instances.alerts.models import Alert, AlertRule
from instances.lineage.models import LineageEvent
from instances.models import Backend, Edge, Instance, Status
from instances.people import roles
from instances.status import culprits
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
NAMESPACE = "airflow-prod"
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
START = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


@pytest.fixture
def pushed(db):
    team = Group.objects.create(name="data")
    backend = Backend.objects.create(
        name="Airflow (pushed)",
        kind="openlineage",
        base_url="https://airflow.example.com",
        team=team,
        scope={"namespaces": [NAMESPACE]},
    )
    out = StringIO()
    call_command("create_push_token", backend.name, stdout=out)
    return backend, out.getvalue().strip()


def client(live_server, token: str) -> OpenLineageClient:
    config = HttpConfig(
        url=live_server.url, auth=ApiKeyTokenProvider({"apiKey": token}), retry={"total": 0}
    )
    return OpenLineageClient(transport=HttpTransport(config))


def event(state, run_id, job, minutes, parent=None, upstream=(), error=None) -> RunEvent:
    facets = {"nominalTime": nominal_time_run.NominalTimeRunFacet(START.isoformat())}
    if parent:
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent),
            job=parent_run.Job(namespace=NAMESPACE, name="etl_orders"),
        )
    if upstream:
        facets["jobDependencies"] = job_dependencies_run.JobDependenciesRunFacet(
            upstream=[
                job_dependencies_run.JobDependency(
                    job=job_dependencies_run.JobIdentifier(namespace=NAMESPACE, name=name)
                )
                for name in upstream
            ]
        )
    if error:
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=error, programmingLanguage="python", stackTrace="Traceback: …"
        )
    return RunEvent(
        eventType=state,
        eventTime=(START + timedelta(minutes=minutes)).isoformat(),
        run=Run(runId=run_id, facets=facets),
        job=Job(namespace=NAMESPACE, name=job),
        producer=PRODUCER,
    )


def dag_run_events(dag: str):
    """A DAG run and its tasks: extract → transform (fails) → load, report; extract → archive."""
    tasks = {
        name: str(uuid.uuid4()) for name in ("extract", "transform", "load", "report", "archive")
    }
    upstream = {
        "transform": ["etl_orders.extract"],
        "load": ["etl_orders.transform"],
        "report": ["etl_orders.transform"],
        "archive": ["etl_orders.extract"],
    }
    task = lambda state, name, minutes, **kw: event(  # noqa: E731
        state,
        tasks[name],
        f"etl_orders.{name}",
        minutes,
        parent=dag,
        upstream=upstream.get(name, ()),
        **kw,
    )
    error = "KeyError: 'customer_id'"
    return (
        tasks,
        [
            task(RunState.COMPLETE, "extract", 2),  # out of order: its end before its start
            event(RunState.START, dag, "etl_orders", 0),
            task(RunState.START, "extract", 1),
            task(RunState.START, "transform", 3),
            task(RunState.FAIL, "transform", 4, error=error),
            task(RunState.START, "archive", 3),
            task(RunState.COMPLETE, "archive", 5),
            task(RunState.ABORT, "load", 4),
            task(RunState.ABORT, "report", 4),
            event(RunState.FAIL, dag, "etl_orders", 6),
            task(RunState.START, "transform", 3),  # a late repeat: the run stays failed
        ],
        error,
    )


def test_a_dag_run_pushed_by_openlineage_python_is_stored_as_polled_runs_are(live_server, pushed):
    backend, token = pushed
    rule = AlertRule.objects.create(team=backend.team, name="failures", kind="failed")
    dag = str(uuid.uuid4())
    tasks, events, error = dag_run_events(dag)
    emitter = client(live_server, token)
    for sent in events:
        emitter.emit(sent)
    emitter.emit(events[4])  # the same FAIL again: nothing changes

    run = Instance.objects.get(backend=backend, external_id=dag)
    assert (run.status, run.name, run.parent_id) == (Status.FAILED, "etl_orders", None)
    assert run.planned_at == START and run.failure_signature
    steps = {s.name: s for s in Instance.objects.filter(parent=run)}
    assert {name: s.status for name, s in steps.items()} == {
        "extract": Status.SUCCEEDED,
        "transform": Status.FAILED,
        "load": Status.CANCELED,
        "report": Status.CANCELED,
        "archive": Status.SUCCEEDED,
    }
    assert {s.external_id for s in steps.values()} == set(tasks.values())
    assert steps["transform"].error_message == error
    edges = set(Edge.objects.filter(parent=run).values_list("upstream__name", "downstream__name"))
    assert edges == {
        ("extract", "transform"),
        ("transform", "load"),
        ("transform", "report"),
        ("extract", "archive"),
    }
    found = culprits(
        run.status,
        list(steps.values()),
        list(Edge.objects.filter(parent=run).values_list("upstream_id", "downstream_id")),
    )
    assert [c.name for c in found] == ["transform"]
    assert LineageEvent.objects.filter(backend=backend).count() == len(events) - 1  # one repeat
    assert Alert.objects.filter(rule=rule).count() == 1


def running(backend, started: datetime) -> Instance:
    """A pushed run that started at `started` and has not ended (stored as sync stores one)."""
    return Instance.objects.create(
        backend=backend,
        external_id=str(uuid.uuid4()),
        kind="FLOW",
        name="etl_orders",
        status=Status.RUNNING,
        started_at=started,
        run_at=started,
        first_seen=started,
        last_seen=started,
        status_changed_at=started,
        updated_at=started,
    )


def post(live_server, token: str, body, **headers):
    return httpx.post(
        f"{live_server.url}/api/v1/lineage",
        content=body if isinstance(body, bytes) else None,
        json=None if isinstance(body, bytes) else body,
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def test_hostile_requests_are_refused_and_keep_nothing(live_server, pushed, settings):
    backend, token = pushed
    other = Backend.objects.create(
        name="theirs",
        kind="openlineage",
        base_url="https://x.example",
        team=Group.objects.create(name="finance"),
        scope={"namespaces": ["finance"]},
    )
    good = event(RunState.START, str(uuid.uuid4()), "etl_orders", 0)
    as_json = Serde.to_dict(good)
    assert post(live_server, "wrong", as_json).status_code == 401
    theirs = dict(as_json, job={"namespace": "finance", "name": "payroll"})
    assert post(live_server, token, theirs).status_code == 403
    big = b"[" + b" " * 10 * 1024 * 1024 + b"]"  # 10 MB
    assert post(live_server, token, big).status_code == 413
    assert post(live_server, token, b"{not json").status_code == 400
    invalid = dict(as_json, eventType="EXPLODED")
    answer = post(live_server, token, invalid)
    assert answer.status_code == 400 and "eventType" in answer.json()["detail"]
    no_run = {k: v for k, v in as_json.items() if k != "run"}
    assert post(live_server, token, no_run).status_code == 400
    assert not LineageEvent.objects.exists() and not Instance.objects.exists()
    assert other.pk  # its namespace stayed its own
    hostile = dict(as_json, job={"namespace": NAMESPACE, "name": "<script>alert(1)</script>"})
    odd = {
        "_producer": "https://example.com/p",
        "_schemaURL": "https://example.com/odd.json",
        "note": "a\u0000b",
    }
    hostile["run"] = {**as_json["run"], "facets": {**as_json["run"]["facets"], "odd": odd}}
    assert post(live_server, token, hostile).status_code == 201  # a NUL is kept as U+FFFD
    stored = Instance.objects.get(backend=backend)
    assert stored.name == "<script>alert(1)</script>"  # kept as sent, shown as text
    viewer = UserFactory(password="pw")
    roles.place(viewer, backend.team, "viewer")
    with httpx.Client(base_url=live_server.url) as browser:
        page = browser.get("/login/")
        csrf = browser.cookies["csrftoken"]
        browser.post(
            "/login/",
            data={"username": viewer.username, "password": "pw", "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{live_server.url}/login/"},
        )
        page = browser.get(f"/runs/{stored.pk}/").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


def test_a_push_backend_is_never_polled_and_says_so(client, pushed):
    from django.utils import timezone

    from instances import scheduling
    from instances.people import roles
    from tests.factories import UserFactory

    backend, _ = pushed
    assert backend.pk not in scheduling.reserve_due_backends(timezone.now())
    operator = UserFactory()
    roles.place(operator, backend.team, "operator")
    client.force_login(operator)
    assert client.post(f"/backends/{backend.pk}/poll/").status_code == 409
    listed = client.get("/backends/").content.decode()
    assert "pushed: nothing to poll" in listed and ">quiet</span>" in listed
    assert ">stale</span>" not in listed
    run = running(backend, START)
    assert "pushed to Runboard by its scheduler" in client.get(f"/runs/{run.pk}/").content.decode()


def test_a_quiet_push_backend_is_never_stale_but_a_silent_run_is_stuck(pushed):
    from django.utils import timezone

    from instances.alerts import checks

    backend, _ = pushed
    AlertRule.objects.create(team=backend.team, name="stale", kind="stale")
    stuck = AlertRule.objects.create(
        team=backend.team, name="stuck", kind="stuck", silent_minutes=30
    )
    running(backend, timezone.now() - timedelta(hours=2))
    assert not backend.is_stale  # it never heard a thing: a quiet night, not a fault
    checks.check(timezone.now())
    assert list(Alert.objects.values_list("rule__kind", flat=True)) == ["stuck"]
    assert Alert.objects.get().rule == stuck

"""A failed run beside its definition's last good run: each step's status and duration side
by side with how much slower, steps only one of them had, the parameters either gave (and
which differ), names escaped; the runs of another team are not found."""

from datetime import UTC, datetime, timedelta

import pytest

from instances.models import Status
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 3, 6, tzinfo=UTC)


def run_with(backend, day: int, status, steps: dict[str, tuple[str, int]], conf: dict):
    began = T0 + timedelta(days=day)
    run = InstanceFactory(
        backend=backend,
        definition_id="orders",
        name=f"orders {day}",
        status=status,
        run_at=began,
        started_at=began,
        raw={"dag_id": "orders", "conf": conf},
    )
    for name, (state, minutes) in steps.items():
        InstanceFactory(
            backend=backend,
            parent=run,
            kind="task",
            name=name,
            definition_id=name,
            status=state,
            started_at=began,
            finished_at=began + timedelta(minutes=minutes),
            duration=timedelta(minutes=minutes),
        )
    return run


@pytest.fixture
def runs(client):
    backend = BackendFactory()
    client.force_login(UserFactory(teams=[backend.team]))
    ok = Status.SUCCEEDED
    older = run_with(backend, 0, ok, {"extract": (ok, 5)}, {})
    good = run_with(
        backend,
        1,
        ok,
        {"extract": (ok, 5), "<b>load</b>": (ok, 10), "old step": (ok, 1)},
        {"date": "2026-03-04", "full": False},
    )
    failed = run_with(
        backend,
        2,
        Status.FAILED,
        {"extract": (ok, 15), "<b>load</b>": (Status.FAILED, 2)},
        {"date": "2026-03-05", "full": False},
    )
    return older, good, failed


def test_a_failed_run_beside_its_last_good_run(client, runs):
    _, good, failed = runs
    page = client.get(f"/runs/{failed.pk}/compare/")
    assert page.context["good"] == good  # the newest success before it, not the older one
    rows = {row.name: row for row in page.context["rows"]}
    assert rows["extract"].slower_by == timedelta(minutes=10) and not rows["extract"].changed
    assert rows["<b>load</b>"].quicker_by == timedelta(minutes=8) and rows["<b>load</b>"].changed
    assert rows["old step"].this is None and rows["old step"].good is not None
    assert page.context["parameters"] == [
        ("date", '"2026-03-05"', '"2026-03-04"'),
        ("full", "false", "false"),
    ]
    body = page.content.decode()
    assert "&lt;b&gt;load&lt;/b&gt;" in body and "<b>load</b>" not in body
    assert body.count('class="changed"') == 3  # load, old step, the date
    assert (
        f'href="/runs/{failed.pk}/compare/"' in client.get(f"/runs/{failed.pk}/").content.decode()
    )


def test_nothing_to_compare_with_and_no_other_teams_run(client, runs):
    older, _, _ = runs
    assert (
        "no successful run before this one"
        in client.get(f"/runs/{older.pk}/compare/").content.decode()
    )
    theirs = InstanceFactory(backend=BackendFactory())
    assert client.get(f"/runs/{theirs.pk}/compare/").status_code == 404

"""The search's first pages come from the runs of the names that hold the search when they
are few, else from a walk of the newest runs (dashboard.search) when they hold a page of
matches, else from every match: all must list exactly the same runs, in the same order, page
after page, for every sort, whoever reads."""

import pytest
from django.db import connection
from django.http import QueryDict

from dashboard import search
from dashboard.filters import PAGE_SIZE, SORTS
from dashboard.scope import ReadScope
from instances.models import Instance
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs():
    mine, theirs = BackendFactory(), BackendFactory()
    # names tie across runs (ids break the ties); "load 1ab" matches only were % and _
    # wildcards
    names = ["copy 1%_ {}", "load 1%_ {}", "load 1ab {}", "load 1%_ {}"]
    for n in range(120):
        for backend in (mine, theirs):
            run = InstanceFactory(
                backend=backend,
                name=names[n % 4].format(n % 5),
                status=["SUCCEEDED", "FAILED", "RUNNING"][n % 3],
            )
            if n % 2:  # a step named alike, found only when steps are included
                InstanceFactory(backend=backend, parent=run, name=f"step {run.name}")
    return UserFactory(teams=[mine.team])


def every_page(user, query: str) -> list[Instance]:
    listed, cursor = [], ""
    while True:
        rows, cursor = ReadScope.of(user, QueryDict(f"{query}&after={cursor}")).page()
        listed += rows
        if not cursor:
            return listed


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize(
    "few, probe",  # names with many runs: walk too short, one page deep, all; few: no walk
    [(10, 10), (10, 110), (10, 5000), (1000, 5000)],
    ids=["walk too short", "walk a page deep", "walk all", "names few"],
)
@pytest.mark.parametrize("steps", [False, True])
def test_the_walk_and_the_plain_query_list_the_same_runs(
    runs, monkeypatch, sort, probe, few, steps
):
    monkeypatch.setattr(search, "PROBE", probe)
    monkeypatch.setattr(search, "FEW", few)
    query = f"window=all&q=OAD 1%25_&sort={sort}&steps={int(steps)}"  # % and _ literal
    field, descending = SORTS[sort]
    sign = "-" if descending else ""
    listed = Instance.objects.visible_to(runs)
    matches = (listed if steps else listed.roots()).filter(name__icontains="OAD 1%_")
    expected = list(matches.order_by(f"{sign}{field}", f"{sign}id"))
    assert len(expected) > PAGE_SIZE  # more than a page: the cursor is walked too
    assert every_page(runs, query) == expected


def test_a_search_walks_the_newest_runs_only_when_its_names_have_many(runs, monkeypatch):
    asked = []
    monkeypatch.setattr(search, "among_first", lambda *args: asked.append(args) or None)
    ReadScope.of(runs, QueryDict("window=all&q=load")).page()
    # a few hundred runs: read at once (PostgreSQL keeps the names; SQLite walks) …
    assert bool(asked) == (connection.vendor != "postgresql")
    monkeypatch.setattr(search, "FEW", 10)
    ReadScope.of(runs, QueryDict("window=all&q=load")).page()
    assert asked  # … more: the walk is tried first …
    asked.clear()
    ReadScope.of(runs, QueryDict("window=all")).page()
    assert not asked  # … and only for a search


def test_a_search_no_run_can_match_answers_an_empty_page(runs):
    from django.contrib.auth.models import AnonymousUser

    # no visible run at all: Django knows the query is empty before any SQL is written
    assert ReadScope.of(AnonymousUser(), QueryDict("window=all&q=load")).page() == ([], None)


@pytest.mark.parametrize("q", ["同步", "维表 #7", "清洗"])
def test_two_chinese_characters_find_the_names_that_hold_them(q):
    """No trigram holds two characters; the names runs have had are read instead."""
    backend = BackendFactory()
    user = UserFactory(teams=[backend.team])
    wanted = {
        InstanceFactory(backend=backend, name=name).pk
        for name in ("同步维表 #7", "清洗订单数据", "nightly 清洗")
        if q in name
    }
    InstanceFactory(backend=backend, name="同 步")  # the characters apart: no match
    rows, _cursor = ReadScope.of(user, QueryDict(f"window=all&q={q}")).page()
    assert {run.pk for run in rows} == wanted and wanted

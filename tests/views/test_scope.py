"""One read-side scope: the run list, its CSV, the API, the overview's counts and the API
summary read the same runs for the same (user, query string), and another team's backend
named in the query shows nothing anywhere."""

import csv
import io

import pytest
from django.http import QueryDict

from dashboard.scope import ReadScope
from dashboard.summaries import by_status
from instances import rollups
from instances.models import ApiToken, Status
from tests.factories import BackendFactory, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client):
    mine, theirs = BackendFactory(), BackendFactory()
    for backend in (mine, theirs):
        for n in range(7):
            InstanceFactory(
                backend=backend, status=Status.FAILED if n % 3 == 0 else Status.SUCCEEDED
            )
    rollups.rebuild()
    user = UserFactory(teams=[mine.team])
    client.force_login(user)
    return user, mine, theirs


@pytest.mark.parametrize("named", ["mine", "theirs", "none"])
def test_every_reader_reads_the_same_runs(client, member, named):
    user, mine, theirs = member
    backend = {"mine": f"&backend={mine.pk}", "theirs": f"&backend={theirs.pk}", "none": ""}
    query = f"window=7d&status=FAILED{backend[named]}"
    scope = ReadScope.of(user, QueryDict(query))
    expected = set(scope.runs().values_list("pk", flat=True))
    assert len(expected) == (0 if named == "theirs" else 3)
    listed = {row.pk for row in client.get(f"/runs/?{query}").context["rows"]}
    token = ApiToken.issue(user, "t")
    api = client.get(f"/api/v1/runs?{query}", headers={"Authorization": f"Bearer {token}"})
    download = b"".join(client.get(f"/runs.csv?{query}").streaming_content).decode()
    exported = list(csv.reader(io.StringIO(download.removeprefix("\ufeff"))))[1:]
    assert listed == {r["id"] for r in api.json()["runs"]} == {int(r[0]) for r in exported}
    assert listed == expected
    counted = by_status(scope.counted())[Status.FAILED]
    summary = client.get(f"/api/v1/summary?{query}").json()["by_status"][Status.FAILED]
    overview = client.get(f"/?{query}").context["counts"][Status.FAILED]
    assert counted == summary == overview == len(expected)

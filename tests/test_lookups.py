"""`__any`: the rows of `__in`, in one array parameter on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from instances.models import Edge, Instance
from tests.factories import InstanceFactory

pytestmark = pytest.mark.django_db


def test_any_finds_what_in_finds_with_one_parameter():
    runs = [InstanceFactory() for _ in range(5)]
    step = InstanceFactory(backend=runs[0].backend, parent=runs[0])
    Edge.objects.create(parent=runs[0], upstream=step, downstream=step)
    wanted = [runs[1].pk, runs[3].pk, 10**12, None]
    with CaptureQueriesContext(connection) as queries:
        found = set(Instance.objects.filter(pk__any=wanted).values_list("pk", flat=True))
        edges = Edge.objects.filter(parent_id__any=[runs[0].pk, runs[2].pk]).count()
        names = Instance.objects.filter(external_id__any=[runs[4].external_id]).count()
    assert found == set(Instance.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == {runs[1].pk, runs[3].pk}
    assert (edges, names) == (1, 1)
    if connection.vendor == "postgresql":
        assert all("= ANY(" in query["sql"] for query in queries.captured_queries)


def test_any_of_nothing_is_nothing():
    InstanceFactory()
    assert not Instance.objects.filter(pk__any=[]).exists()
    assert not Instance.objects.filter(pk__any=[None]).exists()
    assert Instance.objects.filter(pk__any=[]).update(name="x") == 0

"""A team's data products on its page: its operators name one and give it definitions on the
team's own backends; a viewer only reads them; a product a rule holds is not deleted; a rule
can hold only its own team's products."""

import pytest
from django.contrib.auth.models import Group

from instances.alerts.models import AlertRule
from instances.models import DataProduct
from instances.people import roles
from instances.people.models import Role
from tests.factories import BackendFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_and_operator(client):
    backend = BackendFactory(name="EnOS prod")
    operator = UserFactory()
    roles.place(operator, backend.team, Role.OPERATOR)
    client.force_login(operator)
    return backend.team, backend


def post(client, team, **fields):
    return client.post(f"/teams/{team.pk}/products", fields)


def test_an_operator_makes_a_product_of_the_teams_definitions(client, team_and_operator):
    team, backend = team_and_operator
    post(client, team, action="add_product", name="  morning   <b>report</b> ")
    product = DataProduct.objects.get(team=team)
    assert product.name == "morning <b>report</b>"  # spaces folded, kept as typed
    post(
        client, team, action="add_part", product=product.pk, backend=backend.pk, definition="orders"
    )
    post(
        client, team, action="add_part", product=product.pk, backend=backend.pk, definition="orders"
    )
    theirs = BackendFactory(name="their Airflow")
    answer = post(
        client, team, action="add_part", product=product.pk, backend=theirs.pk, definition="x"
    )
    assert answer.status_code == 302
    assert list(product.parts.values_list("backend__name", "definition_id")) == [
        ("EnOS prod", "orders")
    ]
    page = client.get(f"/teams/{team.pk}/").content.decode()
    assert "morning &lt;b&gt;report&lt;/b&gt;" in page and "<b>report" not in page
    assert "Choose one of the team&#x27;s backends" in page  # the other team's backend refused


def test_a_product_a_rule_holds_is_kept(client, team_and_operator):
    team, backend = team_and_operator
    product = DataProduct.objects.create(team=team, name="report")
    part = product.parts.create(backend=backend, definition_id="orders")
    AlertRule.objects.create(team=team, name="by 8", kind="late", product=product)
    post(client, team, action="delete_product", product=product.pk)
    assert DataProduct.objects.filter(pk=product.pk).exists()
    assert AlertRule.objects.filter(product=product).exists()
    post(client, team, action="remove_part", part=part.pk)
    assert not product.parts.exists()
    AlertRule.objects.all().delete()
    post(client, team, action="delete_product", product=product.pk)
    assert not DataProduct.objects.exists()


def test_a_viewer_reads_and_cannot_change(client, team_and_operator):
    team, _backend = team_and_operator
    DataProduct.objects.create(team=team, name="report")
    client.force_login(UserFactory(teams=[team]))  # a viewer
    assert post(client, team, action="add_product", name="mine").status_code == 404
    page = client.get(f"/teams/{team.pk}/").content.decode()
    assert "report" in page and "Add a data product" not in page
    other = Group.objects.create(name="other team")
    DataProduct.objects.create(team=other, name="theirs")
    assert "theirs" not in page


def test_a_rule_holds_only_its_own_teams_products(client, team_and_operator):
    team, _backend = team_and_operator
    other = Group.objects.create(name="other team")
    theirs = DataProduct.objects.create(team=other, name="theirs")
    mine = DataProduct.objects.create(team=team, name="mine")
    fields = {"team": team.pk, "name": "report late", "kind": "late", "enabled": "on"}
    fields |= {"after_failures": 1, "stuck_factor": 3, "silent_minutes": 0, "grace_minutes": 30}
    fields |= {"deadline": "08:00", "calendar": ""}
    answer = client.post("/alerts/rules/new", {**fields, "product": theirs.pk})
    assert "Select a valid choice" in answer.content.decode()  # another team's: not offered
    assert not AlertRule.objects.exists()
    client.post("/alerts/rules/new", {**fields, "product": mine.pk})
    assert AlertRule.objects.get().product == mine


def test_a_product_holds_a_bounded_number_of_definitions(client, team_and_operator, monkeypatch):
    from dashboard.views import products

    team, backend = team_and_operator
    monkeypatch.setattr(products, "MOST_PARTS", 2)
    product = DataProduct.objects.create(team=team, name="report")
    for definition in "abc":
        post(
            client,
            team,
            action="add_part",
            product=product.pk,
            backend=backend.pk,
            definition=definition,
        )
    assert product.parts.count() == 2
    page = client.get(f"/teams/{team.pk}/").content.decode()
    assert "A data product holds 2 definitions at most." in page

"""A person's place in a team: one role, each change audited, and what each role may do."""

import pytest

from instances.models import Backend, team_scope
from instances.people import roles
from instances.people.models import MembershipChange, Role
from tests.factories import BackendFactory, GroupFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_joining_a_new_role_and_leaving_are_audited_and_a_repeat_is_not():
    team, admin, person = GroupFactory(), UserFactory(), UserFactory()
    assert roles.place(person, team, Role.VIEWER, by=admin)
    assert not roles.place(person, team, Role.VIEWER, by=admin)
    assert roles.place(person, team, Role.OPERATOR, by=admin)
    assert roles.place(person, team, None, by=admin)
    assert not roles.place(person, team, None, by=admin)
    kept = MembershipChange.objects.filter(team=team, person=person).order_by("pk")
    assert [(c.what, c.role, c.by) for c in kept] == [
        ("joined", "viewer", admin),
        ("role", "operator", admin),
        ("left", "", admin),
    ]


def test_each_role_holds_the_ones_below_it():
    team = GroupFactory()
    viewer, operator, admin = UserFactory(), UserFactory(), UserFactory()
    for person, role in ((viewer, Role.VIEWER), (operator, Role.OPERATOR), (admin, Role.ADMIN)):
        roles.place(person, team, role)
    held = {
        role: {p for p in (viewer, operator, admin) if roles.may(p, role, team.pk)} for role in Role
    }
    assert held == {
        Role.VIEWER: {viewer, operator, admin},
        Role.OPERATOR: {operator, admin},
        Role.ADMIN: {admin},
    }
    assert not roles.may(UserFactory(is_superuser=False), Role.VIEWER, team.pk)


def test_a_person_sees_the_backends_of_their_teams_only_and_nothing_once_removed():
    ours, theirs = BackendFactory(), BackendFactory()
    person = UserFactory(teams=[ours.team])
    assert list(Backend.objects.filter(team_scope(person, "team"))) == [ours]
    roles.place(person, ours.team, None)
    assert not Backend.objects.visible_to(person).exists()
    assert theirs not in Backend.objects.visible_to(UserFactory(teams=[ours.team]))


def test_a_deactivated_person_may_do_nothing():
    team = GroupFactory()
    person = UserFactory(teams=[team], is_staff=True)
    assert roles.may(person, Role.ADMIN, team.pk)
    person.is_active = False
    assert not roles.may(person, Role.VIEWER, team.pk)

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from instances.models import Backend, Instance, Kind, Status
from instances.people.models import Membership, Role


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"team-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user-{n}")
    password = factory.django.Password("pw")

    @factory.post_generation
    def teams(self, create, teams, **kwargs):
        """Staff of their teams are its admins (as "team staff" were), others its viewers."""
        for team in teams or () if create else ():
            Membership.objects.create(
                user=self, team=team, role=Role.ADMIN if self.is_staff else Role.VIEWER
            )


class BackendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Backend

    name = factory.Sequence(lambda n: f"backend-{n}")
    kind = "ocp"
    base_url = "http://127.0.0.1:9000"
    team = factory.SubFactory(GroupFactory)


class InstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instance

    backend = factory.SubFactory(BackendFactory)
    external_id = factory.Sequence(lambda n: f"run-{n}")
    kind = Kind.FLOW
    name = factory.Sequence(lambda n: f"flow {n}")
    status = Status.SUCCEEDED
    run_at = factory.LazyFunction(timezone.now)
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)
    status_changed_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from instances.models import ApiToken


class Command(BaseCommand):
    help = "Issue an API token for a user (shown once; only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="api")
        parser.add_argument("--days", type=int, default=90, help="until it expires")

    def handle(self, *args, username, name, days, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user {username!r}") from exc
        self.stdout.write(ApiToken.issue(user, name, days))

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from instances.emulator import auth
from instances.models import Backend

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105 - printed to the terminal on purpose, DEBUG only


def demo_backends(emulator_url: str) -> list[tuple[Backend, dict]]:
    enos_scope = {"orgId": auth.ENOS_ORG_ID, "userId": auth.ENOS_USER_ID}
    enos_keys = {"app_key": auth.ENOS_APP_KEY, "app_secret": auth.ENOS_APP_SECRET}
    huawei = {
        "username": auth.HUAWEI_USER,
        "password": auth.HUAWEI_PASSWORD,
        "domain_name": auth.HUAWEI_DOMAIN,
    }
    return [
        (Backend(name="EnOS batch (emulated)", kind="enos_batch_v21", scope=enos_scope), enos_keys),
        (Backend(name="EnOS dataflow (emulated)", kind="enos_dataflow_v20", scope=enos_scope),
         enos_keys),
        (Backend(name="OceanBase OCP (emulated)", kind="ocp"),
         {"username": auth.OCP_USER, "password": auth.OCP_PASSWORD}),
        (Backend(name="DataArts Factory (emulated)", kind="dataarts_factory",
                 scope={"project_id": auth.HUAWEI_PROJECT_ID, "workspace": auth.HUAWEI_INSTANCE}),
         {"ak": auth.HUAWEI_AK, "sk": auth.HUAWEI_SK}),  # AK/SK here, an IAM token for Data Map
        (Backend(name="DataArts Data Map (emulated)", kind="dataarts_datamap",
                 scope={"project_id": auth.HUAWEI_PROJECT_ID, "instance": auth.HUAWEI_INSTANCE,
                        "table_guid": "orders"}),
         huawei),
    ]  # fmt: skip


class Command(BaseCommand):
    help = "DEBUG only: the demo superuser and one backend per vendor API, on the emulator."

    def add_arguments(self, parser):
        parser.add_argument("--emulator-url", default="http://127.0.0.1:9000")

    def handle(self, *args, emulator_url, **options):
        if not settings.DEBUG:
            raise CommandError("The demo setup exists only in DEBUG mode.")
        user, _ = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        for backend, secrets in demo_backends(emulator_url):
            stored, _ = Backend.objects.get_or_create(
                name=backend.name,
                defaults={"kind": backend.kind, "scope": backend.scope, "poll_interval": 10},
            )
            stored.base_url = emulator_url
            stored.credentials = secrets
            stored.save()
        self.stdout.write(f"Demo login {DEMO_USERNAME} / {DEMO_PASSWORD}")

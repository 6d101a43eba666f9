"""A window in a URL cannot make one request eat a worker: the year 1, the year 9999 and ten
years all answer quickly, each in a process whose memory is capped, because every window is
clamped to the history Runboard keeps."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from tests.processes import ROOT, database_env

pytestmark = pytest.mark.django_db(transaction=True)
MEMORY = 1024 * 2**20  # address space of the process answering
SECONDS = 20  # the bound on one answer, start-up included

ANSWER = f"""
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({MEMORY}, {MEMORY}))
import django
from django.conf import settings
django.setup()
plain = "django.contrib.staticfiles.storage.StaticFilesStorage"  # no collectstatic here
settings.STORAGES["staticfiles"] = {{"BACKEND": plain}}
from django.contrib.auth.models import User
from django.test import Client
client = Client()
client.force_login(User.objects.get(username="boss"))
began = time.monotonic()
answer = client.get(sys.argv[1])
print(answer.status_code, time.monotonic() - began)
"""


def ten_years() -> str:
    now = timezone.now()
    return f"since={(now - timedelta(days=3653)).date()}&until={now.date()}"


@pytest.mark.parametrize("path", ["/charts/runs.svg", "/"])
@pytest.mark.parametrize(
    "window", ["since=0001-01-01", "since=9999-12-31", "since=9999-12-31T23:59:59", "ten years"]
)
def test_any_window_answers_within_bounds(path, window):
    UserFactory(username="boss", is_superuser=True)
    query = ten_years() if window == "ten years" else window
    done = subprocess.run(
        [sys.executable, "-c", ANSWER, f"{path}?window=custom&{query}"],
        cwd=ROOT,
        env=database_env() | {"DJANGO_SETTINGS_MODULE": "dashboard.settings"},
        capture_output=True,
        text=True,
        timeout=SECONDS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    status, seconds = done.stdout.split()
    assert status == "200" and float(seconds) < 5, done.stdout

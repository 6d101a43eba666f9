"""With the database unreachable, pages answer 503 with a page that says so, not a 500."""

import subprocess
import sys

from tests.processes import ROOT, database_env, free_ports

ASK = """
import django
from django.conf import settings
django.setup()
plain = "django.contrib.staticfiles.storage.StaticFilesStorage"  # no collectstatic here
settings.STORAGES["staticfiles"] = {"BACKEND": plain}
from django.test import Client
client = Client(raise_request_exception=False)
client.cookies["sessionid"] = "a-session-the-database-would-hold"
for path in ("/", "/runs/", "/failures/"):
    answer = client.get(path)
    print(path, answer.status_code, "database is unreachable" in answer.content.decode())
"""


def test_pages_answer_503_while_the_database_is_down():
    closed = free_ports(1)  # nothing listens there: a PostgreSQL that is down
    env = database_env() | {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed}/runboard"}
    env.pop("DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-c", ASK], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answers = [line for line in done.stdout.splitlines() if line.startswith("/")]
    assert answers == [
        "/ 503 True",
        "/runs/ 503 True",
        "/failures/ 503 True",
    ], done.stdout + done.stderr[-2000:]

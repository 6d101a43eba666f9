"""The demo as scripts/run.sh runs it (SQLite, the filesystem broker, runserver, a threaded
worker and beat, the emulator in its own process) stays answerable while a backend of
2,000-step flows is polled: 20 logins and page loads meanwhile, not one 500 and not one
"database is locked"."""

import os
import re
import signal
import subprocess
import sys
import threading
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.processes import ROOT, free_ports, wait_for

pytestmark = pytest.mark.celery  # real worker and beat (though not Redis: the demo's broker)


def demo_env(tmp: Path, emulator_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return env | {
        "DEBUG": "1",
        "RUNBOARD_VAR_DIR": str(tmp / "var"),
        "RUNBOARD_BEAT_SECONDS": "1",
        "RUNBOARD_EMULATOR_PORT": str(emulator_port),
    }


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@contextmanager
def process(name: str, command: list[str], env: dict, tmp: Path):
    with (tmp / f"{name}.log").open("w") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


ONLY_OCP = (
    "from instances.models import Backend; "
    "Backend.objects.exclude(kind='ocp').update(enabled=False); "
    "Backend.objects.filter(kind='ocp').update(poll_interval=3)"
)
COUNT = (
    "from instances.models import Instance, Poll; "
    "print(Instance.objects.filter(kind='subtask').count(), "
    "Poll.objects.filter(outcome='ok').count(), Poll.objects.filter(outcome='error').count())"
)


def test_the_demo_answers_every_login_and_page_while_2000_step_flows_are_stored(tmp_path):
    web_port, emulator_port = free_ports(2), free_ports(2) + 1
    env = demo_env(tmp_path, emulator_port)
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "demo_setup", "--emulator-url", f"http://127.0.0.1:{emulator_port}")
    manage(env, "shell", "-c", ONLY_OCP)
    py = sys.executable
    commands = {
        "emulator": [
            py,
            "manage.py",
            "emulate",
            f"--port={emulator_port}",
            "--speed=10",
            "--definitions=2",
            "--history-hours=1",
            "--steps=2000,2000",
        ],
        "web": [py, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"],
        "worker": [
            py,
            "-m",
            "celery",
            "-A",
            "dashboard",
            "worker",
            "--loglevel=INFO",
            "--pool=threads",
            "--concurrency=4",
            "--queues=celery,polls",
        ],
        "beat": [
            py,
            "-m",
            "celery",
            "-A",
            "dashboard",
            "beat",
            "--loglevel=INFO",
            f"--schedule={tmp_path / 'schedule'}",
        ],
    }  # fmt: skip - one process a line, as in the Procfile
    with ExitStack() as stack:
        for name, command in commands.items():
            stack.enter_context(process(name, command, env, tmp_path))
        base = f"http://127.0.0.1:{web_port}"
        wait_for(lambda: answers(f"{base}/login/"), 60, "runserver")
        wait_for(lambda: subtasks(env)[0] > 0, 120, "the first 2,000-step flow stored")
        codes: list[int] = []
        threads = [threading.Thread(target=visit, args=(base, codes)) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        stored, ok_polls, failed_polls = subtasks(env)
        assert stored >= 2000 and ok_polls >= 2
    assert len(codes) == 20 * len(PAGES) + 20 and all(code < 500 for code in codes), codes
    locked = [
        line
        for name in commands
        for line in (tmp_path / f"{name}.log").read_text().splitlines()
        if "database is locked" in line
    ]
    assert locked == [] and failed_polls == 0


PAGES = ("/", "/runs/", "/failures/", "/backends/", "/alerts/")


def visit(base: str, codes: list[int]) -> None:
    """One person: the login form, a login, then the pages on-call opens first."""
    with httpx.Client(base_url=base, timeout=60) as client:
        form = client.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        login = client.post(
            "/login/",
            data={"username": "demo", "password": "demo", "csrfmiddlewaretoken": token},
            headers={"referer": f"{base}/login/"},
        )
        codes.append(login.status_code)
        codes.extend(client.get(page).status_code for page in PAGES)


def subtasks(env: dict) -> list[int]:
    return [int(n) for n in manage(env, "shell", "-c", COUNT).split()[-3:]]


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False

"""Real processes for tests: Celery workers and beat on the test database, and waiting on
conditions with a deadline (never a fixed sleep)."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_ports(count: int) -> int:
    """The first of `count` consecutive ports free on 127.0.0.1 right now."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count <= 65535 and all(is_free(base + n) for n in range(count)):
            return base
    raise AssertionError(f"no {count} consecutive free ports")


def is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def database_env() -> dict[str, str]:
    """Environment that points a child process at the database this test is using."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": os.environ.get("SECRET_KEY", "t")}


@contextmanager
def celery(command: str, log: Path, env: dict[str, str], *args: str) -> Iterator[subprocess.Popen]:
    """Run `celery -A dashboard <command>` until the block ends; yields the process."""
    ready = "ready." if command == "worker" else "beat: Starting"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dashboard", command, "--loglevel=INFO", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: ready in log.read_text() or proc.poll() is not None, 30, f"{command}")
        assert proc.poll() is None, log.read_text()
        yield proc
    finally:
        if proc.poll() is None:
            # SIGTERM to Celery's main process alone, as `docker stop` sends it: a warm
            # shutdown lets the task in hand finish (to its pool children too, it would kill
            # a poll midway and leave it running)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            if group_alive(proc.pid):  # nothing of it may outlive the test
                os.killpg(proc.pid, signal.SIGKILL)


def deliverer(log: Path, env: dict[str, str]):
    """The alert deliverer as shipped (Procfile): the deliveries queue, sends in its main
    thread so each has its deadline."""
    return celery(
        "worker",
        log,
        env,
        "--queues=deliveries",
        "--pool=solo",
        "--hostname=deliverer@%h",
        "--without-gossip",
        "--without-mingle",
        "--purge",
    )


def worker(log: Path, env: dict[str, str], name: str = "w1", concurrency: int = 1):
    return celery(
        "worker",
        log,
        env,
        "--queues=celery,polls",
        f"--concurrency={concurrency}",
        f"--hostname={name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--purge",
    )


def group_alive(group: int) -> bool:
    """Whether any process of this process group is left (a pool child, after its parent)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True

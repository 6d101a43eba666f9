"""The README's run command brings up the web server, worker and beat, and Ctrl-C stops them."""

import os
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx

from instances.management.commands.demo_setup import demo_backends

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_run_command_serves_live_runs_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        RUNBOARD_VAR_DIR=str(tmp_path / "var"),
        RUNBOARD_PORT=str(port),
        RUNBOARD_EMULATOR_PORT=str(free_port()),
    )
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "run.sh")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def login_page():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/login/", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(login_page, 60, "the login page")
        started = (
            "celery@",
            "ready.",
            "beat: Starting",
            f"127.0.0.1:{port}/",
            "Demo login demo / demo",
        )
        wait_for(
            lambda: all(text in (tmp_path / "run.log").read_text() for text in started),
            30,
            "the worker and beat",
        )

        def backends_with_runs():
            with sqlite3.connect(tmp_path / "var" / "runboard.sqlite3") as db:
                return {
                    name
                    for (name,) in db.execute(
                        "SELECT DISTINCT b.name FROM instances_instance i"
                        " JOIN instances_backend b ON b.id = i.backend_id"
                    )
                }

        # every demo backend, Airflow 2 and 3 both, on the emulator
        wait_for(
            lambda: backends_with_runs() == {backend.name for backend, _ in demo_backends()},
            90,
            "live runs from every emulated vendor API",
        )
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        returncode = proc.wait(timeout=30)
    output = (tmp_path / "run.log").read_text()
    assert "Traceback" not in output, output
    assert returncode in (0, 130), output

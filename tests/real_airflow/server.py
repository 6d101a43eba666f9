"""A real Apache Airflow from PyPI, with SQLite on free ports, for tests to judge Runboard by;
its OpenLineage provider reports every run to Runboard (LINEAGE_TOKEN, NAMESPACE).

Each major lives in its own virtualenv under a cache directory outside the repository
(RUNBOARD_CACHE_DIR, else ~/.cache/runboard), installed once and reused. Versions and the
date their dependencies are resolved at are pinned, as Airflow's constraint files would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
from django.db import connection

from tests.processes import free_ports, group_alive, wait_for

# major → (version, newest dependency upload date it was tested with)
RELEASES = {2: ("2.10.5", "2025-02-20"), 3: ("3.3.2", "2026-12-01")}
EXTRAS = {2: "[postgres]", 3: ""}  # Airflow 2 keeps its metadata in PostgreSQL when it can
DAGS = Path(__file__).resolve().parent / "dags"
JUDGED_DAGS = ("rb_always", "rb_clearable", "rb_fails", "rb_flaky", "rb_mapped")
USER = "admin"
PASSWORD = "judge-pw"
INSTALL_SECONDS = 900
LINEAGE_TOKEN = "judge-lineage-token-1b4e28ba2fa1"  # a push backend's, in the tests
PROVIDER = "apache-airflow-providers-openlineage"


def namespace(major: int) -> str:
    """The OpenLineage namespace each major's events carry."""
    return f"judge-airflow{major}"


START_SECONDS = 180


def cache_dir() -> Path:
    return Path(os.environ.get("RUNBOARD_CACHE_DIR") or Path.home() / ".cache" / "runboard")


def installed(major: int) -> Path:
    """The virtualenv of this major's Airflow, installed on first use."""
    version, newest = RELEASES[major]
    venv = cache_dir() / f"airflow-{version}"
    done = venv / ".installed"
    wanted = f"{version}{EXTRAS[major]} {PROVIDER}"
    if done.exists() and done.read_text() == wanted:
        return venv
    uv = Path(sys.executable).parent / "uv"
    if not done.exists():
        shutil.rmtree(venv, ignore_errors=True)  # a half-made one from an interrupted install
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([uv, "venv", "--quiet", "--python", base, venv], check=True)
    python = venv / "bin" / "python"
    pinned = ["--exclude-newer", newest, f"apache-airflow{EXTRAS[major]}=={version}", PROVIDER]
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", python, *pinned],
        check=True,
        timeout=INSTALL_SECONDS,
    )
    done.write_text(wanted)
    return venv


@dataclass
class Airflow:
    major: int
    version: str
    base_url: str
    home: Path

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v{1 if self.major == 2 else 2}"

    def client(self) -> httpx.Client:
        """Airflow's own REST API, as the judge reads it (not through Runboard)."""
        if self.major == 2:
            return httpx.Client(base_url=self.api, auth=(USER, PASSWORD), timeout=30)
        token = httpx.post(
            f"{self.base_url}/auth/token", json={"username": USER, "password": PASSWORD}
        )
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        return httpx.Client(base_url=self.api, headers=headers, timeout=30)

    def log(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def run_path(dag_id: str, run_id: str) -> str:
    return f"dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}"


@contextmanager
def metadata_database(major: int) -> Iterator[str | None]:
    """Airflow 2's metadata database on the tests' PostgreSQL, when they run on one: there its
    LocalExecutor runs tasks in forks of itself, side by side, where on SQLite Airflow 2 takes
    only the SequentialExecutor, a new interpreter per task (some 8 s each: three minutes for
    the judged runs). None: SQLite (Airflow 3's LocalExecutor takes it)."""
    db = connection.settings_dict
    if major != 2 or db["ENGINE"] != "django.db.backends.postgresql":
        yield None
        return
    name = f"airflow2_judge_{os.getpid()}"
    server = {"host": db["HOST"], "port": db["PORT"] or 5432, "user": db["USER"]}
    with psycopg.connect(**server, password=db["PASSWORD"], dbname="postgres") as admin:
        admin.autocommit = True
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        login = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        try:
            yield f"postgresql+psycopg2://{login}@{server['host']}:{server['port']}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(
    major: int, venv: Path, home: Path, port: int, runboard: str, database: str | None
) -> dict[str, str]:
    base_url = f"http://127.0.0.1:{port}"
    transport = {
        "type": "http",
        "url": runboard,
        "endpoint": "api/v1/lineage",
        "auth": {"type": "api_key", "apiKey": LINEAGE_TOKEN},
    }
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DJANGO", "VIRTUAL"))
    }
    env |= {
        "PATH": f"{venv / 'bin'}:{env.get('PATH', '')}",  # its processes start `airflow`
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(port + 1),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(port + 2),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": namespace(major),
    }
    if database:
        env |= {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        }
    if major == 2:
        return env | {
            "AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.basic_auth",
            "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(port),
            "AIRFLOW__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
            "AIRFLOW__WEBSERVER__WORKERS": "1",
            "AIRFLOW__WEBSERVER__SECRET_KEY": "judge-secret",
            "AIRFLOW__WEBSERVER__BASE_URL": base_url,
        }
    (home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
    return env | {
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": "judge-jwt-secret-of-enough-length-for-hs512",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
    }


@contextmanager
def daemon(venv: Path, home: Path, env: dict[str, str], *args: str) -> Iterator[None]:
    with (home / f"{args[0]}.log").open("w") as out:
        proc = subprocess.Popen(
            [venv / "bin" / "airflow", *args],
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if group_alive(proc.pid):
                os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    continue
        proc.wait()


def prepare(
    major: int, home: Path, runboard: str, database: str | None
) -> tuple[Path, dict[str, str], int]:
    """Installs (or reuses) this major and migrates its database (`database`, else SQLite in
    its home): the slow part, which two majors can do side by side. Its OpenLineage events go
    to `runboard`."""
    venv = installed(major)
    home.mkdir(parents=True, exist_ok=True)
    port = free_ports(3)
    env = environment(major, venv, home, port, runboard, database)
    airflow = [venv / "bin" / "airflow"]
    quiet = {"cwd": home, "env": env, "check": True, "capture_output": True, "timeout": 300}
    subprocess.run([*airflow, "db", "migrate"], **quiet)
    if major == 2:
        user = ["--username", USER, "--password", PASSWORD, "--role", "Admin"]
        names = ["--firstname", "R", "--lastname", "B", "--email", "r@b.test"]
        subprocess.run([*airflow, "users", "create", *user, *names], **quiet)
    return venv, env, port


@contextmanager
def running(major: int, home: Path, prepared: tuple[Path, dict[str, str], int]):
    """This major's servers until the block ends, once every judged DAG is parsed."""
    venv, env, port = prepared
    servers = (
        [("webserver",), ("scheduler",)]
        if major == 2
        else [("api-server",), ("scheduler",), ("dag-processor",)]
    )
    airflow = Airflow(major, RELEASES[major][0], f"http://127.0.0.1:{port}", home)
    with ExitStack() as stack:
        for args in servers:
            stack.enter_context(daemon(venv, home, env, *args))
        wait_for(lambda: responds(airflow), START_SECONDS, f"Airflow {major} up\n{logs(airflow)}")
        with airflow.client() as client:
            wait_for(
                lambda: parsed(client) >= set(JUDGED_DAGS),
                START_SECONDS,
                f"Airflow {major} parsing the judged DAGs\n{logs(airflow)}",
                every=1,
            )
        yield airflow


def responds(airflow: Airflow) -> bool:
    try:
        return httpx.get(f"{airflow.api}/version", auth=(USER, PASSWORD)).status_code in (200, 401)
    except httpx.TransportError:
        return False


def parsed(client: httpx.Client) -> set[str]:
    response = client.get("dags", params={"limit": 100})
    return {d["dag_id"] for d in response.json()["dags"]} if response.is_success else set()


def logs(airflow: Airflow) -> str:
    names = ("webserver", "scheduler") if airflow.major == 2 else ("api-server", "scheduler")
    return "\n".join(f"--- {name}\n{airflow.log(name)}" for name in names)

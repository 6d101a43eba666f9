"""docker-compose.yml as shipped, without Docker: each service's own command runs as the
image's user (uid 1000), with .env.example's settings, over a copy of the tree that is root's
and read-only but for the volumes the compose file declares (and /app/var, which the
Dockerfile gives the user). Web, worker, deliverer, beat and the demo's emulator all start,
beat keeps its schedule, every log line is JSON, and /healthz answers through Caddy running
the compose file's Caddyfile."""

import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from tests.processes import ROOT, database_env, free_ports, wait_for
from tests.test_production import env_example

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]
APP = "/app"  # the image's working directory
AS_THE_IMAGE_USER = [
    "setpriv",
    "--reuid=1000",
    "--regid=1000",
    "--clear-groups",
    # reads anything, as the image's user reads its root-owned files; writes as uid 1000 only
    "--inh-caps=+dac_read_search",
    "--ambient-caps=+dac_read_search",
    "--",
]


def image_tree(tmp: Path) -> Path:
    """The image's /app: the project's files and static files, root's and read-only, and
    var/ (beat's volume) the user's, as the Dockerfile leaves them."""
    app = tmp / "app"
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file() and not name.startswith(("docs/", ".git")):
            (app / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, app / name)
    (app / ".venv").symlink_to(ROOT / ".venv")
    return app


def service_env(app: Path, tmp: Path) -> dict[str, str]:
    env = env_example() | {
        "DATABASE_URL": database_env()["DATABASE_URL"],
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "RUNBOARD_REDIS_PREFIX": f"compose-{secrets.token_hex(4)}:",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIALS_KEY": secrets.token_urlsafe(50),
        "STATIC_ROOT": str(app / "staticfiles"),
        "RUNBOARD_VAR_DIR": str(app / "var"),
        "PATH": f"{app / '.venv' / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp / "home"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    assert env["LOG_FORMAT"] == "json" and env["RUNBOARD_BEHIND_HTTPS"] == "1"
    return env


def command_of(service: dict, app: Path, ports: dict[str, int]) -> list[str]:
    words = [word.replace(APP, str(app)) for word in service["command"]]
    if "web" in ports:
        words = [w.replace("0.0.0.0:8000", f"127.0.0.1:{ports['web']}") for w in words]
    if "emulate" in words:
        words[words.index("--host") + 1] = "127.0.0.1"
        words[words.index("--port") + 1] = str(ports["emulator"])
    return words


def test_the_dockerfile_builds_what_the_simulation_below_assumes():
    """The image as the test below lays it out: the app's files root's (COPY without
    --chown), /app/var the user's, uid 1000 in every stage that runs, the demo target with
    the emulator's packages, and the production stage last (compose's default target)."""
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)$", text, re.MULTILINE)
    assert stages == ["base", "demo", "production"]
    assert re.search(r"^COPY \. \.$", text, re.MULTILINE) and "--chown" not in text
    assert "chown runboard:runboard /app/var" in text and "RUNBOARD_VAR_DIR=/app/var" in text
    assert text.count("USER 1000") == 2 and "--group emulator" in text
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["web"]["build"]["target"] == "production"


def test_the_compose_services_start_as_the_image_user_on_a_read_only_tree(tmp_path):
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    app = image_tree(tmp_path)
    env = service_env(app, tmp_path)
    (tmp_path / "home").mkdir()
    build = subprocess.run(  # the Dockerfile's build step, as root
        ["python", "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    subprocess.run(["chmod", "-R", "a-w", str(app)], check=True)
    shutil.chown(app / "var", 1000, 1000)
    os.chmod(app / "var", 0o755)  # noqa: S103 - as the image leaves it
    shutil.chown(tmp_path / "home", 1000, 1000)
    os.chmod(tmp_path, 0o755)  # noqa: S103 - the image user must reach the tree

    migrate = subprocess.run(
        AS_THE_IMAGE_USER + command_of(services["migrate"], app, {}),
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
    )
    assert migrate.returncode == 0, migrate.stderr + migrate.stdout
    first = free_ports(4)
    web_port, emulator_port, https_port, http_port = range(first, first + 4)
    ports = {"web": web_port, "emulator": emulator_port}
    running = {}
    try:
        for name in ("web", "worker", "deliverer", "beat", "emulator"):
            log = (tmp_path / f"{name}.log").open("w")
            running[name] = subprocess.Popen(
                AS_THE_IMAGE_USER + command_of(services[name], app, ports),
                cwd=app,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proxy = caddy(tmp_path, services["proxy"], web_port, https_port, http_port)
        running["proxy"] = proxy
        caddy_ca = httpx.Client(verify=False)  # noqa: S501 - Caddy's own local CA, made just now

        def through_the_proxy():
            try:
                reply = caddy_ca.get(f"https://localhost:{https_port}/healthz", timeout=3)
            except httpx.HTTPError:
                return None
            assert running["web"].poll() is None, log_of(tmp_path, "web")
            return reply if reply.status_code != 502 else None  # web still starting

        health = wait_for(through_the_proxy, 60, "/healthz through Caddy")
        assert health.status_code == 200 and health.json()["database"] is True, health.text
        login = caddy_ca.get(f"https://localhost:{https_port}/login/")
        assert login.status_code == 200  # HTTPS as Django sees it: no redirect loop
        assert "strict-transport-security" in login.headers
        plain = httpx.get(f"http://localhost:{http_port}/login/")
        assert plain.status_code in (301, 308) and plain.headers["location"].startswith("https")

        for name in ("worker", "deliverer"):
            wait_for(lambda n=name: " ready." in log_of(tmp_path, n), 60, f"{name} ready")
        schedule = app / "var" / "celerybeat-schedule"
        wait_for(lambda: any(app.joinpath("var").glob("celerybeat-schedule*")), 60, "beat")
        assert not list(app.glob("*.pyc")) and schedule.parent.stat().st_uid == 1000
        wait_for(
            lambda: answers(f"http://127.0.0.1:{emulator_port}/_emulator/faults"),
            60,
            "the emulator",
        )
        for name, process in running.items():
            assert process.poll() is None, f"{name} stopped:\n{log_of(tmp_path, name)}"
        logs = {name: log_of(tmp_path, name) for name in ("web", "worker", "deliverer", "beat")}
    finally:
        for process in running.values():
            if process.poll() is None:
                os.killpg(process.pid, 15)
                process.wait(timeout=20)
    for name, text in logs.items():  # as they ran (Celery's shutdown line is plain text)
        lines = [line for line in text.splitlines() if line.strip()]
        assert lines, name
        for line in lines:
            assert isinstance(json.loads(line), dict), f"{name}: not JSON: {line}"


def caddy(tmp: Path, proxy: dict, web_port: int, https_port: int, http_port: int):
    """The compose proxy's Caddyfile in Caddy itself (Debian's package), pointed here."""
    mounted = next(v.split(":")[0] for v in proxy["volumes"] if "Caddyfile" in v)
    caddyfile = ROOT / mounted.removeprefix("./")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp / "caddy"),
        "XDG_DATA_HOME": str(tmp / "caddy"),
        "XDG_CONFIG_HOME": str(tmp / "caddy"),
        "RUNBOARD_DOMAIN": "localhost",
        "RUNBOARD_UPSTREAM": f"127.0.0.1:{web_port}",
        "RUNBOARD_HTTPS_PORT": str(https_port),
        "RUNBOARD_HTTP_PORT": str(http_port),
    }
    check = subprocess.run(
        ["caddy", "validate", "--config", str(caddyfile), "--adapter", "caddyfile"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    log = (tmp / "proxy.log").open("w")
    return subprocess.Popen(
        ["caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def log_of(tmp: Path, name: str) -> str:
    return (tmp / f"{name}.log").read_text()

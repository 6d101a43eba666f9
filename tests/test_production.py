"""The production stack, checked without Docker: the compose file against the project, the
deploy checklist, and the production entry points started for real."""

import os
import re
import subprocess
import sys

import pytest
import yaml
from django.core.management import get_commands

from tests.processes import ROOT, database_env


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


# .env.example as shipped, but for what an operator must replace: the sample keys (refused at
# start-up) and where compose's services live (this machine's own, here).
PRODUCTION = {
    name: value
    for name, value in env_example().items()
    if name not in ("DATABASE_URL", "REDIS_URL", "STATIC_ROOT", "RUNBOARD_VAR_DIR")
} | {
    "SECRET_KEY": "p" * 20 + "r0dUct10n-k3y-w1th-3n0ugh-ch4r4ct3rs-!@#$%^&*()",
    "CREDENTIALS_KEY": "c" * 20 + "cr3d3nt14ls-k3y-w1th-3n0ugh-ch4r4ct3rs-!@#$%^&*()",
}


def settings_variables() -> set[str]:
    """Every environment variable the settings read (NAME and NAME_FILE secrets), with the
    log format they share with gunicorn."""
    text = (ROOT / "dashboard" / "settings.py").read_text()
    text += (ROOT / "dashboard" / "log_formats.py").read_text()
    names = set(re.findall(r'(?:env(?:\.\w+)?|os\.environ\.get)\(\s*"([A-Z_]+)"', text))
    secrets = set(re.findall(r'secret\("([A-Z_]+)"\)', text))
    return names | secrets | {f"{name}_FILE" for name in secrets}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_services_run_real_entry_points():
    services = compose()["services"]
    commands = get_commands()
    for name, service in services.items():
        command = service.get("command")
        if name in ("postgres", "redis", "proxy"):
            continue
        if command[0] == "python":
            assert command[1] == "manage.py" and command[2] in commands, name
        elif command[0] == "celery":
            assert command[1:3] == ["-A", "dashboard"] and command[3] == "--quiet", name
            assert command[4] in ("worker", "beat"), name
        else:
            assert command[:4] == [
                "gunicorn",
                "-c",
                "python:dashboard.gunicorn_conf",
                "dashboard.wsgi",
            ]


def test_compose_sets_only_variables_the_settings_read():
    known = settings_variables()
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            assert line.split("=")[0] in known, line
    for name, service in compose()["services"].items():
        if name not in ("postgres", "redis", "proxy"):  # the proxy's are Caddy's own
            assert set(service.get("environment", {})) <= known, name


def test_compose_has_volumes_healthchecks_a_shared_definition_and_one_beat():
    text = (ROOT / "docker-compose.yml").read_text()
    services = compose()["services"]
    # migrate, web, worker, deliverer, beat; the demo's emulator and setup
    assert "&runboard" in text and text.count("<<: *runboard") == 7
    for name in ("postgres", "redis", "web"):
        assert "healthcheck" in services[name], name
    assert services["postgres"]["volumes"] and services["redis"]["volumes"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["emulator"]["profiles"] == services["demo-setup"]["profiles"] == ["demo"]
    assert services["emulator"]["build"]["target"] == "demo"  # its server's packages
    assert "ports" not in services["web"] and services["proxy"]["ports"]  # HTTPS only


def test_check_deploy_is_clean_with_production_variables():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env | PRODUCTION,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize("name", ["SECRET_KEY", "CREDENTIALS_KEY"])
def test_the_published_sample_keys_are_refused(name):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env | PRODUCTION | {name: env_example()[name]},
        check=False,
    )
    assert result.returncode != 0
    assert "must not be the published samples" in result.stderr


def test_secrets_may_come_from_files(tmp_path):
    (tmp_path / "key").write_text(PRODUCTION["SECRET_KEY"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    probe = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        cwd=ROOT,
        env=env
        | {
            "SECRET_KEY_FILE": str(tmp_path / "key"),
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == PRODUCTION["SECRET_KEY"], result.stderr


def test_the_web_app_loads_its_views_and_freezes_them_before_its_first_request():
    """gunicorn imports dashboard.wsgi once per worker: every view is imported then, and what
    is loaded is frozen out of the collector's full passes (a 40 ms stall every few dozen
    requests otherwise, bench.pages)."""
    probe = (
        "import gc, sys, dashboard.wsgi; "
        "print(gc.get_freeze_count(), 'dashboard.views.triage' in sys.modules)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=database_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert int(shown[0]) > 50_000 and shown[1] == "True", shown

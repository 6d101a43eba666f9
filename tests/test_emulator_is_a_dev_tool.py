"""The vendor emulator is a development and test tool: production code never imports it (its
server's packages are dev dependencies, absent from the production image). Emulator code is
`instances/emulator/` and each vendor folder's `emulator.py` (and `emulator_*.py`, its parts)."""

import ast
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.processes import database_env

ROOT = Path(settings.BASE_DIR)
DEV_ONLY = {"instances/management/commands/emulate.py"}  # serves it
EMULATOR_MODULES = ("instances.emulator", "starlette", "uvicorn")


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    return names | {
        f"{node.module or ''}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def is_emulator(relative: str) -> bool:
    name = relative.rsplit("/", 1)[-1]
    in_vendor = relative.startswith("instances/vendors/") and (
        name == "emulator.py" or name.startswith("emulator_")
    )
    return in_vendor or relative.startswith("instances/emulator/")


def test_no_production_module_imports_the_emulator_or_its_server():
    offenders = []
    for folder in ("dashboard", "instances"):
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if is_emulator(relative) or relative in DEV_ONLY:
                continue
            bad = {
                name
                for name in imported(path)
                if name.startswith(EMULATOR_MODULES)
                or (name.startswith("instances.vendors.") and ".emulator" in name)
            }
            if bad:
                offenders.append(f"{relative}: {sorted(bad)}")
    assert offenders == []


def test_the_running_product_loads_no_emulator_module():
    """What the web app and the workers load, in a fresh interpreter: the registry imports
    vendor modules by name, which the source check above cannot see."""
    probe = (
        "import django; django.setup();"
        "import dashboard.urls, dashboard.celery, instances.tasks, instances.connectors;"
        "from django.core.management import call_command; call_command('check');"
        "import sys; print(sorted(m for m in sys.modules if m.startswith(("
        "'instances.emulator', 'starlette', 'uvicorn')) or m.endswith('.emulator')))"
    )
    env = database_env() | {"DJANGO_SETTINGS_MODULE": "dashboard.settings"}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"

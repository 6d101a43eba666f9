"""The vendor emulator is a development and test tool: production code never imports it (its
server's packages are dev dependencies, absent from the production image)."""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DEV_ONLY = {"instances/management/commands/emulate.py",  # serves it
            "instances/management/commands/demo_setup.py"}  # the demo's backends on it  # fmt: skip


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}  # fmt: skip
    return names | {f"{node.module or ''}.{alias.name}" for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) for alias in node.names}  # fmt: skip


def test_no_production_module_imports_the_emulator_or_its_server():
    offenders = []
    for folder in ("dashboard", "instances"):
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("instances/emulator/") or relative in DEV_ONLY:
                continue
            bad = {name for name in imported(path) if name.startswith(
                ("instances.emulator", "starlette", "uvicorn"))}  # fmt: skip
            if bad:
                offenders.append(f"{relative}: {sorted(bad)}")
    assert offenders == []

"""The house's shape: the layers and the absence of import circles, as pyproject.toml's
import-linter contracts state them (vendors and connectors -> sync -> alerts -> dashboard,
nothing importing upward); small modules with one job; a poll that reads top to bottom."""

import inspect
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


MOST_LINES = 300  # a module past it does more than one job (models, a table's schema, aside)
ORCHESTRATION_LINES = 40


def test_no_module_of_instances_is_over_300_lines_but_models():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / "instances").rglob("*.py")
        if "migrations" not in path.parts and path.name != "models.py"
        if (lines := len(path.read_text().splitlines())) > MOST_LINES
    }
    assert long == {}


def test_a_poll_and_its_page_each_read_as_one_short_function():
    from instances import sync

    for step in (sync.poll_backend, sync.store_page):
        assert len(inspect.getsource(step).splitlines()) <= ORCHESTRATION_LINES, step.__name__

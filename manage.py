#!/usr/bin/env python3
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def in_project_venv() -> None:
    """`./manage.py …` from a shell runs whatever `python3` is first on PATH: move into the
    project's virtualenv (made by scripts/bootstrap.sh) when this is not it."""
    venv_python = Path(__file__).resolve().parent / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.prefix).resolve() != venv_python.parent.parent.resolve():
        os.execv(venv_python, [str(venv_python), *sys.argv])  # noqa: S606 - argv as given


if __name__ == "__main__":
    in_project_venv()
    # the vendor emulator is a development tool with settings of its own: no secret, no database
    emulating = sys.argv[1:2] == ["emulate"]
    os.environ.setdefault(
        "DJANGO_SETTINGS_MODULE",
        "instances.emulator.settings" if emulating else "dashboard.settings",
    )
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)

#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

if __name__ == "__main__":
    # the vendor emulator is a development tool with settings of its own: no secret, no database
    emulating = sys.argv[1:2] == ["emulate"]
    os.environ.setdefault(
        "DJANGO_SETTINGS_MODULE",
        "instances.emulator.settings" if emulating else "dashboard.settings",
    )
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)

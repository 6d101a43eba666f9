""".env.example names every environment variable Runboard's settings read (dashboard/settings.py
and the modules it and gunicorn share), so a team that copies it sees every setting there is."""

import re

from tests.processes import ROOT

READ = re.compile(r'(?:env\.\w+|secret|os\.environ\.get)\(\s*"([A-Z][A-Z0-9_]*)"')
LISTED = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def test_env_example_lists_every_setting_read():
    settings = "".join(
        (ROOT / "dashboard" / name).read_text()
        for name in ("settings.py", "log_formats.py", "gunicorn_conf.py")
    )
    read = set(READ.findall(settings))
    read |= {f"{name}_FILE" for name in re.findall(r'secret\("([A-Z_]+)"\)', settings)}
    listed = set(LISTED.findall((ROOT / ".env.example").read_text()))
    assert len(read) > 20  # the pattern still finds what settings.py reads
    assert read - listed == set()

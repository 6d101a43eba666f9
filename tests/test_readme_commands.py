"""Every `manage.py` command the README shows in a shell block runs as written, from a clean
environment (only PATH and HOME; var/ moved to a temporary folder so the repository's own
stays as it is): each line exits 0, and the emulator's line serves."""

import os
import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.processes import ROOT, wait_for

BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
# lines that serve until stopped, and where they answer
SERVERS = {"manage.py emulate --port 9000": "http://127.0.0.1:9000/_emulator/faults"}


def blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [block for block in BLOCK.findall(text) if "manage.py" in block]


def clean_env(tmp: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",  # no virtualenv: ./manage.py finds its own
        "HOME": str(tmp),
        "RUNBOARD_VAR_DIR": str(tmp / "var"),
    }


def test_the_readme_shows_its_commands():
    lines = [line for block in blocks() for line in block.splitlines() if "manage.py" in line]
    assert len(lines) >= 9 and any("createsuperuser" in line for line in lines)


@pytest.mark.parametrize("number", range(len(blocks())))
def test_each_readme_manage_py_line_runs_as_written(number, tmp_path):
    block = blocks()[number]
    for server, url in SERVERS.items():
        if server in block:
            return serves(block.strip(), url, tmp_path)
    script = "set -euo pipefail\n" + "".join(
        f"{line}\n"
        if line.strip().startswith(("#", "export")) or not line.strip()
        else f"echo '>>> {line.replace(chr(39), '')}'\n{line}\n"
        for line in block.splitlines()
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def serves(line: str, url: str, tmp: Path) -> None:
    log = tmp / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            ["bash", "-c", line],
            cwd=ROOT,
            env=clean_env(tmp),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: answers(url) or server.poll() is not None, 60, line)
        assert server.poll() is None, log.read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False

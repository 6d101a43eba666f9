"""Run the emulator in-process on a free port, for tests and benchmarks:

with run_emulator(seed=1) as emu:
    httpx.get(f"{emu.base_url}/_emulator/truth/ocp")
    emu.scenario.advance(600)              # move the clock
    emu.faults["ocp"] = Fault(error_rate=1, status=500)
"""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from .faults import Fault
from .scenario import Scenario
from .server import build_app


@dataclass
class Emulator:
    base_url: str
    scenario: Scenario
    faults: dict[str, Fault]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(scenario: Scenario, host: str, port: int, faults: dict[str, Fault]) -> uvicorn.Server:
    app, _ = build_app(scenario, faults)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    return uvicorn.Server(config)


@contextmanager
def run_emulator(port: int = 0, **scenario_options) -> Iterator[Emulator]:
    port = port or free_port()
    faults: dict[str, Fault] = {}
    scenario = Scenario(**scenario_options)
    server = serve(scenario, "127.0.0.1", port, faults)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("emulator did not start")
        time.sleep(0.01)
    try:
        yield Emulator(f"http://127.0.0.1:{port}", scenario, faults)
    finally:
        server.should_exit = True
        thread.join(timeout=10)

"""Emulator benchmark: startup time at the default scale and detail requests per second.

    .venv/bin/python -m bench.emulator [--seconds 5] [--clients 8]

Targets (issue 3): startup under 2 s; at least 1,000 detail requests/s. The emulator runs in
its own process (as `manage.py emulate`); clients are threads with keep-alive connections.
"""

import argparse
import subprocess
import sys
import threading
import time

import httpx

from bench.setup import ROOT, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from instances.emulator.runner import free_port

    port = free_port()
    began = time.perf_counter()
    command = [sys.executable, "manage.py", "emulate", f"--port={port}"]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, env={"SECRET_KEY": "bench", "PATH": ""}
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                httpx.get(f"{base}/_emulator/faults", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.02)
        startup = time.perf_counter() - began
        ids = list(httpx.get(f"{base}/_emulator/truth/ocp").json())
        done = [0] * args.clients
        stop = time.perf_counter() + args.seconds

        def client(n: int) -> None:
            with httpx.Client(base_url=base, auth=("admin", "runboard-demo-pw")) as http:
                while time.perf_counter() < stop:
                    reply = http.get(f"/api/v2/tasks/instances/{ids[done[n] % len(ids)]}")
                    assert reply.status_code == 200
                    done[n] += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rate = sum(done) / args.seconds
    finally:
        proc.terminate()
        proc.wait()
    print(
        f"startup (process start to first answer) {startup:.2f} s  target < 2 s  "
        f"{verdict(startup, 2.0, higher_is_better=False)}"
    )
    print(f"OCP task detail  {rate:,.0f} requests/s  target ≥ 1,000  {verdict(rate, 1000)}")


if __name__ == "__main__":
    main()

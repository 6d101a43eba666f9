import asyncio
import json
import time

import uvicorn
from django.core.management.base import BaseCommand

from instances.emulator.faults import Fault
from instances.emulator.scenario import Scenario
from instances.emulator.server import EMULATORS, build_app
from instances.registry import parts

DEMO_CREDENTIALS = "Demo credentials (fixed):\n" + "\n".join(
    f"  {demo.CREDENTIALS}" for demo in parts("demo").values() if demo.CREDENTIALS
)


class Command(BaseCommand):
    help = (
        "Serve every emulated vendor API (EnOS v2.1/v2.0, Huawei IAM + DataArts Factory + Data "
        "Map, OCP, Airflow) under the vendors' own paths, with a control API under /_emulator/. "
        + DEMO_CREDENTIALS
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9000)
        parser.add_argument("--seed", type=int, default=1, help="the scenario is deterministic")
        parser.add_argument("--speed", type=float, default=1.0, help="clock speed vs real time")
        parser.add_argument("--definitions", type=int, default=4, help="per vendor")
        parser.add_argument("--history-hours", type=float, default=6.0)
        parser.add_argument("--steps", default="3,12", help="DAG size range MIN,MAX (up to 2000)")
        parser.add_argument(
            "--separate-ports",
            action="store_true",
            help=f"serve {', '.join(EMULATORS)} on PORT, PORT+1, … instead of one port",
        )
        parser.add_argument(
            "--faults", default="{}", help='JSON, e.g. {"ocp": {"error_rate": 0.2, "status": 500}}'
        )

    def handle(
        self,
        *args,
        host,
        port,
        seed,
        speed,
        definitions,
        history_hours,
        faults,
        steps,
        separate_ports,
        **_,
    ):
        from datetime import timedelta

        began = time.monotonic()
        low, high = (int(n) for n in steps.split(","))
        scenario = Scenario(
            seed=seed,
            speed=speed,
            definitions_per_vendor=definitions,
            history=timedelta(hours=history_hours),
            steps=(low, high),
        )
        table = {vendor: Fault(**spec) for vendor, spec in json.loads(faults).items()}
        groups = [(v,) for v in EMULATORS] if separate_ports else [tuple(EMULATORS)]
        servers = []
        for offset, vendors in enumerate(groups):
            app, _ = build_app(scenario, table, vendors)
            config = uvicorn.Config(app, host=host, port=port + offset, log_level="warning")
            servers.append(uvicorn.Server(config))
            self.stdout.write(f"{', '.join(vendors)}: http://{host}:{port + offset}/")
        self.stdout.write(
            f"Runboard vendor emulator (seed {seed}) ready in {time.monotonic() - began:.2f} s"
        )
        self.stdout.write(DEMO_CREDENTIALS)

        async def serve_all():
            await asyncio.gather(*(server.serve() for server in servers))

        asyncio.run(serve_all())

"""The seed documents' own sample records, present in every scenario's initial state."""

import json
from datetime import datetime
from pathlib import Path

from . import scenario as sc

SAMPLES = Path(__file__).resolve().parent / "samples"


def add_seed_samples(scenario: sc.Scenario) -> None:
    """Idempotent: apps built on one scenario (one per port) share its samples."""
    detail = json.loads((SAMPLES / "ocp_task_detail.json").read_text())["data"]
    if f"sample-{detail['id']}" in scenario.runs["ocp"]:
        return
    created = datetime.fromisoformat(detail["createTime"])
    steps = [sc.Step(id=str(s["id"]), name=s["name"], upstream=[str(u) for u in s["upstreams"]],
                     start=datetime.fromisoformat(s["startTime"]),
                     end=datetime.fromisoformat(s["finishTime"]), outcome=sc.SUCCEEDED)
             for s in detail["subtasks"]]  # fmt: skip
    scenario.add(sc.Run(
        vendor="ocp", id=f"sample-{detail['id']}", definition_id=str(detail["taskDefinitionId"]),
        definition_name=detail["name"], planned=created, steps=steps, owner="admin",
        seq=detail["id"], sample=detail,
    ))  # fmt: skip

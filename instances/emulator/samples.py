"""The seed documents' own sample records, served under their documented ids, as printed
(doc errors included: a connector must read what the documents show). The tests read the same
files as their recorded payloads."""

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path

from . import scenario as sc

SAMPLES = Path(__file__).resolve().parent / "samples"
OCP_DETAIL = "ocp/task_detail_seed003.json"
DATAMAP_OUTPUT = "dataarts_datamap/operator_instances_seed002.json"
ENOS = [  # (scenario vendor, resource, sample, whether it is a whole reply or its data only)
    ("enos_v21", "flowInstances", "enos_v21/flow_instance_seed001.json", True),
    ("enos_v21", "flowInstances", "enos_v21/flow_instance_seed001_data.json", False),
    ("enos_v21", "taskInstances", "enos_v21/task_instance_seed000.json", True),
    ("enos_v20", "flowInstances", "enos_v20/flow_instance_seed004.txt", True),
    ("enos_v20", "flowInstances", "enos_v20/flow_instance_seed004_data.txt", False),
]
INSTANCE_ID = re.compile(r'"instanceId"\s*:\s*"([^"]+)"')


def text(name: str) -> str:
    return (SAMPLES / name).read_text()


@cache
def enos_samples() -> dict[tuple[str, str, str], tuple[str, bool]]:
    """(vendor, resource, documented instance id) → (the sample's text, whether whole)."""
    found = {}
    for vendor, resource, name, whole in ENOS:
        sample = text(name)
        if (instance := INSTANCE_ID.search(sample)) is None:
            raise ValueError(f"{name} names no instanceId")
        found[(vendor, resource, instance.group(1))] = (sample, whole)
    return found


@cache
def datamap_sample() -> tuple[str, str]:
    """(the documented operator's task id, the document's whole reply)."""
    reply = text(DATAMAP_OUTPUT)
    row = json.loads(json.loads(reply)["body"])["rows"][0]
    return str(row["taskId"]), reply


def add_seed_samples(scenario: sc.Scenario) -> None:
    """The OCP sample joins the scenario as a run (listed, with its subtasks' logs).
    Idempotent: apps built on one scenario (one per port) share its samples."""
    detail = json.loads(text(OCP_DETAIL))["data"]
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

"""EnOS Batch Processing records as the emulator renders them from the scenario: flow
instances and task instances, with the vendor's status codes, cycles and time formats."""

import json
import zlib
from dataclasses import dataclass
from datetime import datetime

from instances.emulator import scenario as sc
from instances.emulator.common import CHINA, naive_local, quartz


@dataclass(frozen=True)
class Version:
    """What differs between the batch services' versions."""

    prefix: str  # the service's path, e.g. batch-processing-service/v2.1
    api: str  # its one name (scenario vendor, samples folder)
    result_key: str  # the envelope's result field: code (v2.1) or status (v2.0)
    success: str  # the envelope's message on success
    graph_keys: dict[str, str]  # the graph's own key names, as the seed samples show them
    samples: tuple[tuple[str, str, bool], ...]  # (resource, file, whole reply or data only)
    task_detail: bool = True


VERSIONS: dict[str, Version] = {}  # prefix → version, as `service` registers them


STATUS = {
    sc.PENDING: (0, "INIT"),
    sc.RUNNING: (2, "RUNNING"),
    sc.SUCCEEDED: (1, "SUCCESS"),
    sc.FAILED: (-1, "FAIL"),
    sc.TIMEOUT: (7, "TIMEOUT"),
    sc.CANCELED: (8, "CANCEL"),
    sc.SKIPPED: (10, "SKIP"),
}


CYCLES = {300: "mi", 900: "mi", 3600: "H", 86400: "D", 604800: "W", 2592000: "M"}


def flow_instance(version: str, run: sc.Run, now: datetime, listed: bool = False) -> dict:
    code, name = STATUS[run.status(now)]
    names = VERSIONS[version].graph_keys
    cycle, freq = CYCLES.get(int(run.period.total_seconds()), "D"), quartz(run.period)
    tasks = [
        {
            "taskName": step.name,
            "taskInstId": task_inst_id(run, step),
            "x": 100 + 160 * n,
            "y": 80,
            "taskId": task_id(run, step),
            "nodeId": f"t_{step.id}",
            "status": STATUS[step.status(now, run)][1],
        }
        for n, step in enumerate(run.steps)
    ]
    graph = {
        "creator": run.owner,
        "freq": freq,
        "alertMode": 0,
        "owners": f";{run.owner};",
        "cycle": cycle,
        names["doAs"]: run.owner,
        "flows": [],
        "alertTo": "",
        "name": run.definition_name,
        "instId": run.id,
        "id": int(run.definition_id),
        "relations": [
            {"cycleGap": f"{cycle}0", "rerun": True, "source": f"t_{up}", "target": f"t_{step.id}"}
            for step in run.steps
            for up in step.upstream
        ],
        "parameters": "[]",
        names["appId"]: "",
        "tasks": tasks,
    }
    start = run.start if code != 0 else None
    record = {
        "instanceId": run.id,
        "flowId": int(run.definition_id),
        "flowName": run.definition_name,
        "freq": freq,
        "cycle": cycle,
        "parameters": "[]",
        "doAs": run.owner,
        "graph": json.dumps(graph, ensure_ascii=False),
        "status": code,
        "statusDesc": name,
        "triggerTime": naive_local(run.planned),
        "startTime": naive_local(start),
        "endTime": naive_local(run.finished_at(now)),
        "timestamp": f"{naive_local(run.planned)}.0",
        "virtual": False,
        "owner": run.owner,
        "alertMode": 0,
        "calDt": run.planned.astimezone(CHINA).strftime("%Y-%m-%d"),
        "hasEditPri": True,
        "hasReadPri": True,
    }
    if listed:
        record["isCancelled"] = run.forced == sc.CANCELED
    return record


def flow_type(run: sc.Run) -> int:
    """0 manual, 1 periodic, 2 temporary: most emulated runs are periodic, a few not."""
    return {0: 0, 1: 2}.get(zlib.crc32(run.id.encode()) % 10, 1)


def task_id(run: sc.Run, step: sc.Step) -> int:
    """The task's definition id: the same in every run of its flow (an instance id is not)."""
    return int(run.definition_id) * 1000 + int(step.id[-3:])


def task_inst_id(run: sc.Run, step: sc.Step) -> str:
    return f"{step.id}-{run.id.split('-', 1)[1]}"


def java_date(moment: datetime) -> str:
    """Java Date.toString() in the backend's zone: 'Tue Feb 02 17:35:00 CST 2021'."""
    local = moment.astimezone(CHINA)
    return local.strftime("%a %b %d %H:%M:%S CST %Y")


def task_instance(run: sc.Run, step: sc.Step, now: datetime) -> dict:
    status = step.status(now, run)
    code, name = STATUS[status]
    return {
        "instanceId": task_inst_id(run, step),
        "taskId": task_id(run, step),
        "taskName": step.name,
        "cycle": "H",
        "status": code,
        "runNum": step.attempts,
        "type": 3,
        "syncType": None,
        "freq": None,
        "ifPre": 0,
        "stsDesc": name,
        "recallNum": step.attempts - 1,
        "triggerTime": naive_local(run.planned),
        "timeout": 1800,
        "recallLimit": 3,
        "recallInterval": 0,
        "startTime": naive_local(step.start if status != sc.PENDING else None),
        "endTime": naive_local(step.end if status not in (sc.PENDING, sc.RUNNING) else None),
        "timeStamp": java_date(run.planned),
        "isTimeout": status == sc.TIMEOUT,
        "flowInstId": run.id,
        "doAs": run.owner,
        "alert": False,
        "runMode": json.dumps(
            {
                "taskMode": 1,
                "cpu": 0.5,
                "memory": 1.0,
                "maxParallel": 0,
                "keyType": 0,
                "datasourceId": 0,
                "path": "",
                "content": "",
            }
        ),
        "cmd": f"sh run_{step.id}.sh",
        "hasResourceBefore": False,
        "resourceName": "",
        "fileName": "",
        "resourceVersion": "",
    }

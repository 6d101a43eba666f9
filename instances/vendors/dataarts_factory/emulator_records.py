"""DataArts Factory records as the emulator renders them from the scenario: job instances
and their node instances, with the vendor's status words and epoch-millisecond times."""

from instances.emulator import scenario as sc
from instances.emulator.common import epoch_ms
from instances.emulator.failures import failure

from . import demo

JOB_STATUS = {
    sc.PENDING: "waiting",
    sc.RUNNING: "running",
    sc.SUCCEEDED: "success",
    sc.FAILED: "fail",
    sc.TIMEOUT: "fail",
    sc.CANCELED: "manual-stop",
    sc.SKIPPED: "skip-by-depend",
}


NODE_STATUS = JOB_STATUS | {sc.SKIPPED: "skip"}


def job_name(definition_id: str) -> str:
    return f"etl_job_{definition_id}"


def job_instance(run: sc.Run, now, with_nodes: bool) -> dict:
    status = run.status(now)
    started = run.start if status != sc.PENDING else None
    finished = run.finished_at(now)
    record = {
        "jobName": job_name(run.definition_id),
        "jobId": int(run.definition_id),
        "jobInstanceName": f"{job_name(run.definition_id)}_{run.seq}",
        "instanceId": run.seq,
        "status": JOB_STATUS[status],
        "planTime": epoch_ms(run.planned),
        "submitTime": epoch_ms(run.planned),
        "startTime": epoch_ms(started),
        "endTime": epoch_ms(finished),
        "executeTime": epoch_ms(finished) - epoch_ms(started) if finished else 0,
        "instanceType": 0,
        "forceSuccess": False,
        "ignoreSuccess": False,
        "version": 1,
    }
    if finished is None:
        del record["endTime"]  # absent while running
    failed = [step for step in run.steps if step.status(now, run) in (sc.FAILED, sc.TIMEOUT)]
    if status in (sc.FAILED, sc.TIMEOUT) and failed:
        record["errorMessage"] = failure(run, failed[0]).message
    if with_nodes:
        record["total"] = len(run.steps)
        record["nodes"] = [node_instance(run, step, now) for step in run.steps]
    return record


def node_instance(run: sc.Run, step: sc.Step, now) -> dict:
    status = step.status(now, run)
    done = status not in (sc.PENDING, sc.RUNNING)
    return {
        "nodeName": step.name,
        "status": NODE_STATUS[status],
        "type": "DLISQL",
        "planTime": epoch_ms(run.planned),
        "startTime": epoch_ms(step.start if status != sc.PENDING else None),
        "endTime": epoch_ms(step.end if done else None),
        "retryTimes": step.attempts - 1,
        "instanceId": int(step.id),
        "inputRowCount": -1,
        "outputRowCount": -1,
        "logPath": f"obs://dlf-log-{demo.PROJECT_ID}/{run.seq}/{step.id}.log",
    }

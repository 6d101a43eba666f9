"""Realistic failures for the emulated world: what a failed step's log ends with and what its
vendor says of it. Each definition fails in a few ways of its own, each failed run in one of
them, all drawn from the scenario, so a seed gives the same failures every time."""

import random
import zlib
from dataclasses import dataclass

from . import scenario as sc

TABLES = ("orders", "customers", "refunds", "meter_readings", "device_events", "invoices")
HOSTS = ("10.0.3.17:3306", "10.0.8.41:2883", "172.16.4.9:9092", "10.0.1.5:8020")
COLUMNS = ("customer_id", "device_sn", "order_no", "tenant")


@dataclass(frozen=True)
class Failure:
    kind: str
    message: str  # what the vendor's error field says
    log: list[str]  # what the end of the step's log says, time stamps left to the caller


def table_missing(table, day, rng):
    return (
        f"Table or view not found: ods.{table}_{day}",
        [
            f"ERROR SparkSQLDriver: Failed in [INSERT OVERWRITE TABLE dwd.{table} SELECT * FROM "
            f"ods.{table}_{day}]",
            f"org.apache.spark.sql.AnalysisException: Table or view not found: ods.{table}_{day}; "
            "line 1 pos 47",
            "\tat org.apache.spark.sql.catalyst.analysis.package$AnalysisErrorAt.failAnalysis"
            "(package.scala:42)",
        ],
    )


def partition_missing(table, day, rng):
    return (
        f"SemanticException [Error 10006]: Partition not found dt='{day}'",
        [
            f"ERROR ql.Driver: FAILED: SemanticException [Error 10006]: Line 1:{rng.randint(20, 90)}"
            f" Partition not found ods.{table} dt='{day}'",
            "org.apache.hadoop.hive.ql.parse.SemanticException: Partition not found",
        ],
    )


def out_of_memory(table, day, rng):
    limit = rng.choice((4, 8, 12, 16))
    used = limit + rng.randint(1, 9) / 10
    return (
        f"Container killed by YARN for exceeding memory limits. {used} GB of {limit} GB "
        "physical memory used",
        [
            f"ERROR YarnScheduler: Lost executor {rng.randint(1, 40)}: Container killed by YARN "
            f"for exceeding memory limits. {used} GB of {limit} GB physical memory used.",
            "java.lang.OutOfMemoryError: Java heap space",
            "\tat java.util.Arrays.copyOf(Arrays.java:3332)",
        ],
    )


def timeout(table, day, rng):
    seconds = rng.choice((1800, 3600, 7200))
    return (
        f"Task timed out after {seconds} seconds",
        [
            f"ERROR TaskRunner: task exceeded its timeout of {seconds} s, killing it",
            f"java.util.concurrent.TimeoutException: Futures timed out after [{seconds} seconds]",
        ],
    )


def permission_denied(table, day, rng):
    return (
        "ORA-01031: insufficient privileges",
        [
            f"ERROR Loader: INSERT INTO DWD.{table.upper()} failed",
            "Caused by: java.sql.SQLSyntaxErrorException: ORA-01031: insufficient privileges",
        ],
    )


def connection_refused(table, day, rng):
    host = rng.choice(HOSTS)
    return (
        f"Connection refused: {host}",
        [
            f"WARN Retry: attempt 3 of 3 to {host} failed",
            f"java.net.ConnectException: Connection refused (Connection refused) to {host}",
        ],
    )


def python_key_error(table, day, rng):
    column = rng.choice(COLUMNS)
    return (
        f"KeyError: '{column}'",
        [
            "Traceback (most recent call last):",
            '  File "/opt/jobs/transform.py", line 88, in <module>',
            f"    rows = [r['{column}'] for r in batch]",
            f"KeyError: '{column}'",
        ],
    )


KINDS = {
    f.__name__: f
    for f in (
        table_missing,
        partition_missing,
        out_of_memory,
        permission_denied,
        connection_refused,
        python_key_error,
    )
}
KINDS_PER_DEFINITION = 2


def failure(run: sc.Run, step: sc.Step) -> Failure:
    """How this step failed: a timeout when it timed out, else one of its definition's own
    kinds of failure."""
    kinds = random.Random(zlib.crc32(f"{run.definition_id}/failures".encode()))
    own = kinds.sample(sorted(KINDS), KINDS_PER_DEFINITION)
    rng = random.Random(zlib.crc32(f"{run.id}/{step.id}".encode()))
    name = "timeout" if step.outcome == sc.TIMEOUT else rng.choice(own)
    table = kinds.choice(TABLES)
    message, log = (timeout if name == "timeout" else KINDS[name])(
        table, run.planned.strftime("%Y%m%d"), rng
    )
    return Failure(kind=name, message=message, log=log)

"""Error text as on-call reads it, on a corpus of real-looking vendor messages and logs: the
telling line, the signature that groups the same failure and parts different ones, its kind."""

import pytest

from instances.errors import error_lines, kind, signature, telling_line

SPARK_OOM = """2026-11-30 02:14:07,123 INFO [main] scheduler.DAGScheduler: Job 3 started
2026-11-30 02:19:41,552 ERROR [main] org.apache.spark.SparkException: Job aborted due to stage failure: Task 3 in stage 7.0 failed 4 times
java.lang.OutOfMemoryError: Java heap space
\tat java.util.Arrays.copyOf(Arrays.java:3332)"""
JAVA_ORA = """java.lang.RuntimeException: load of DWD_ORDERS failed
\tat com.example.etl.Loader.run(Loader.java:42)
Caused by: java.sql.SQLSyntaxErrorException: ORA-00942: table or view does not exist
\tat oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:494)"""
PYTHON = """Traceback (most recent call last):
  File "/opt/jobs/etl.py", line 88, in <module>
    main()
PermissionError: [Errno 13] Permission denied: '/data/out/2026-11-30/part-0001.csv'"""


def test_the_telling_line_is_the_root_cause():
    assert telling_line(SPARK_OOM) == "java.lang.OutOfMemoryError: Java heap space"
    assert telling_line(JAVA_ORA) == (
        "java.sql.SQLSyntaxErrorException: ORA-00942: table or view does not exist"
    )
    assert telling_line(PYTHON).startswith("PermissionError: [Errno 13] Permission denied")
    assert telling_line("2026-11-30 02:00:01 ERROR exit code 1: table not found") == (
        "exit code 1: table not found"
    )
    assert telling_line("") == ""


def test_error_lines_are_numbered_for_a_link_to_them():
    assert error_lines(SPARK_OOM) == [
        (2, SPARK_OOM.splitlines()[1]),
        (3, "java.lang.OutOfMemoryError: Java heap space"),
    ]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (
            "Task timed out after 3600 seconds on 10.0.0.7",
            "Task timed out after 120 seconds on 10.0.0.9",
        ),
        (
            "Table 'ods.orders' doesn't exist at 2026-11-30T02:00:00+08:00",
            "Table 'ods.refunds' doesn't exist at 2026-12-01T02:00:00+08:00",
        ),
        (
            "Container killed by YARN for exceeding memory limits. 12.3 GB of 12 GB used. application_1699999999999_0042",
            "Container killed by YARN for exceeding memory limits. 8.1 GB of 8 GB used. application_1700000000000_0007",
        ),
        (
            "read obs://bucket/a/b/c.csv failed: request 5f0c2a9e-8c1b-4e7a-9d3e-2b1f0a9c8d7e",
            "read obs://bucket/x/y.csv failed: request 0b7e9a1c-1111-4e7a-9d3e-2b1f0a9c8d7e",
        ),
        (PYTHON, PYTHON.replace("2026-11-30/part-0001", "2026-12-01/part-0042")),
    ],
)
def test_what_varies_is_masked_so_one_failure_is_one_signature(one, other):
    assert signature(one) == signature(other)


def test_different_failures_keep_different_signatures_and_error_codes():
    found = {signature(text) for text in (SPARK_OOM, JAVA_ORA, PYTHON, "Task timed out")}
    assert len(found) == 4
    assert "ORA-00942" in signature(JAVA_ORA)  # a vendor's error code is not a varying number


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (SPARK_OOM, "out of memory"),
        (JAVA_ORA, "table not found"),
        (PYTHON, "permission denied"),
        ("Error in query: Table or view not found: ods.orders", "table not found"),
        ("FAILED: SemanticException Partition not found dt='2026-11-30'", "partition missing"),
        ("Task timed out after 3600 seconds", "timeout"),
        ("ParseException: syntax error at or near 'SELEC'", "SQL error"),
        ("java.net.ConnectException: Connection refused", "connection failed"),
        ("exit code 1", ""),
    ],
)
def test_the_kind_of_failure_in_words(text, words):
    assert kind(text) == words

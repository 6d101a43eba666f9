"""Error text as on-call reads it: the telling line of a vendor's message or log, its signature
(that line with whatever varies between occurrences masked, so one failure groups together
and different ones apart) and what kind of failure it is, in words."""

import re

from django.utils.translation import gettext_lazy as _

# a line that reports a problem, in the logs and messages of Java, Python, Spark, SQL engines
ERROR_LINE = re.compile(
    r"\b(?:error|exception|fatal|failed|failure|caused by|traceback|timed? ?out|killed|denied"
    r"|refused|not found|does not exist|doesn't exist|no such|out of memory|oom)\b"
    r"|\w(?:Exception|Error)\b|\bORA-\d{5}\b|\bSQLSTATE\b",
    re.IGNORECASE,
)
# "java.lang.IllegalStateException: …", "ValueError: …", "Caused by: org.x.YError: …"
EXCEPTION_LINE = re.compile(r"^(?:Caused by:\s*)?[\w.$]*(?:Exception|Error)\b")
MODULE_PATH = re.compile(r"^(?:\w+\.)+(?=\w+:)")  # "airflow.exceptions." of a class
LOG_PREFIX = re.compile(  # timestamps, thread names and levels in front of the message
    r"^\W*(?:\d{4}-\d\d-\d\d[ T][\d:.,]+\S*\s*)?(?:\[[^\]]*\]\s*)*"
    r"(?:(?:ERROR|FATAL|WARN|INFO)\b[\s:-]*)?(?:\[[^\]]*\]\s*)*"
)
MASKS = [  # in order: the wider patterns first, so numbers inside them go with them
    (
        re.compile(
            r"\b\d{4}-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"
        ),
        "<time>",
    ),
    (re.compile(r"\b\d\d?:\d\d(?::\d\d(?:[.,]\d+)?)?\b"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b", re.IGNORECASE), "<id>"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE), "<url>"),
    (re.compile(r"(?<![\w.])(?:/[\w.@=-]+){2,}/?|\b[A-Za-z]:\\\S+"), "<path>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`"), "'…'"),
    (re.compile(r"\b(?:0x[0-9a-f]+|(?=[0-9a-f]*\d)[0-9a-f]{8,})\b", re.IGNORECASE), "<id>"),
    (re.compile(r"(?<![A-Za-z0-9.-])\d+(?:\.\d+)?"), "<n>"),
]
SIGNATURE_LENGTH = 160
KINDS = [  # what kind of failure a signature is, in words; the first that matches
    (
        _("partition missing"),
        r"partition.{0,80}(?:not found|does not exist|missing)"
        r"|missing partition",
    ),
    (
        _("table not found"),
        r"(?:table|view|relation).{0,80}(?:not found|does ?n[o']t exist)"
        r"|ORA-00942|no such table|TableNotFound|NoSuchTable",
    ),
    (
        _("out of memory"),
        r"out ?of ?memory|OutOfMemoryError|\bOOM\b|heap space|GC overhead"
        r"|memory limit|exit code 137",
    ),
    (_("timeout"), r"time(?:d)? ?out|TimeoutException|deadline exceeded"),
    (
        _("permission denied"),
        r"permission denied|access denied|AccessDenied|not authori[sz]ed"
        r"|forbidden|ORA-01031|insufficient privileges",
    ),
    (
        _("SQL error"),
        r"syntax error|ParseException|SQLSyntaxError|AnalysisException|ORA-009\d\d"
        r"|SQLSTATE|SQLException",
    ),
    (
        _("connection failed"),
        r"connection (?:refused|reset|closed|timed)|UnknownHost"
        r"|could not connect|Communications link failure|ConnectException",
    ),
    (_("disk full"), r"no space left|disk (?:full|quota)|quota exceeded"),
    (_("file not found"), r"FileNotFound|no such file|path does not exist"),
]
KIND_PATTERNS = [(words, re.compile(pattern, re.IGNORECASE)) for words, pattern in KINDS]


def error_lines(text: str, limit: int = 3) -> list[tuple[int, str]]:
    """The first lines that look like errors, as (line number from 1, line)."""
    return [(number, line.strip()) for number, line, bad in marked_lines(text) if bad][:limit]


def marked_lines(text: str) -> list[tuple[int, str, bool]]:
    """Every line as (number from 1, line, whether it looks like an error)."""
    return [
        (number, line, bool(ERROR_LINE.search(line)))
        for number, line in enumerate(text.splitlines(), 1)
    ]


def telling_line(text: str) -> str:
    """The line that says what went wrong: the root cause of a stack trace (its last
    "Caused by", or a Python traceback's last exception line), else the first error-looking
    line, else the first line."""
    lines = [LOG_PREFIX.sub("", line).strip() for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    exceptions = [line for line in lines if EXCEPTION_LINE.match(line)]
    if exceptions:
        causes = [line for line in exceptions if line.startswith("Caused by:")]
        return (causes or exceptions)[-1].removeprefix("Caused by:").strip()
    errors = [line for line in lines if ERROR_LINE.search(line)]
    return (errors or lines or [""])[0]


def python_exception(text: str) -> str:
    """The exception line of a log's last Python traceback, its class named without its module
    (as Python names builtins and structured logs name every class); "" when it has none."""
    _, found, after = (text or "").rpartition("Traceback (most recent call last):")
    return MODULE_PATH.sub("", telling_line(after)) if found else ""


def signature(text: str) -> str:
    """The telling line with what varies between occurrences masked: times, ids, paths, URLs,
    quoted names and numbers (error codes like ORA-00942 are kept)."""
    line = telling_line(text)
    for pattern, mask in MASKS:
        line = pattern.sub(mask, line)
    return " ".join(line.split())[:SIGNATURE_LENGTH]


def kind(text: str) -> str:
    """What kind of failure this is, in words ("" when none is recognised)."""
    return str(next((words for words, pattern in KIND_PATTERNS if pattern.search(text or "")), ""))

"""EnOS replies as they come: JSON (with the unescaped graph its documents print repaired),
graph keys in any case, dates as text, statuses as codes or names."""

from __future__ import annotations

import json
import re
from datetime import datetime

from instances.connectors.base import BadPayload
from instances.status import Status

# a flow's or task's status, by its code or by its name (stsDesc, a graph node's status)
_SUSPEND, _TIMEOUT = (Status.PENDING, "suspended"), (Status.FAILED, "timeout")
STATUS = {
    -1: Status.FAILED,
    0: Status.PENDING,
    1: Status.SUCCEEDED,
    2: Status.RUNNING,
    3: _SUSPEND,
    4: Status.FAILED,
    5: Status.PENDING,
    6: Status.PENDING,
    7: _TIMEOUT,
    8: Status.CANCELED,
    9: Status.RUNNING,
    10: Status.SKIPPED,
    "FAIL": Status.FAILED,
    "INIT": Status.PENDING,
    "SUCCESS": Status.SUCCEEDED,
    "RUNNING": Status.RUNNING,
    "SUSPEND": _SUSPEND,
    "INTERNAL_ERROR": Status.FAILED,
    "WAIT": Status.PENDING,
    "READY": Status.PENDING,
    "TIMEOUT": _TIMEOUT,
    "CANCEL": Status.CANCELED,
    "RERUN": Status.RUNNING,
    "SKIP": Status.SKIPPED,
}

UNESCAPED_GRAPH = re.compile(r'"graph"\s*:\s*"\{')


def parse_json(text: str):
    """JSON, tolerating the unescaped `"graph": "{"creator":…}"` that EnOS documents print
    (a real server escapes it; the fallback re-escapes by brace matching)."""
    try:
        return json.loads(text)
    except ValueError as exc:
        repaired = repair_graph(text)
        if repaired == text:
            raise BadPayload(f"body is not JSON ({exc})") from exc
        try:
            return json.loads(repaired)
        except ValueError as again:
            raise BadPayload(f"body is not JSON, even with the graph re-escaped ({again})") from exc


def repair_graph(text: str) -> str:
    for match in reversed(list(UNESCAPED_GRAPH.finditer(text))):
        start = match.end() - 1  # the graph's opening brace
        depth, end = 0, start
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        if text[end + 1 : end + 2] != '"':
            continue
        inner = text[start : end + 1]
        text = text[: start - 1] + json.dumps(inner, ensure_ascii=False) + text[end + 2 :]
    return text


SNAKE = re.compile(r"_([a-z])")


def camel(payload):
    """Graph keys come camelCase, snake_case or mixed across doc versions: read one way."""
    if isinstance(payload, dict):
        return {SNAKE.sub(lambda m: m.group(1).upper(), k): camel(v) for k, v in payload.items()}
    if isinstance(payload, list):
        return [camel(item) for item in payload]
    return payload


def date_of(text):
    try:
        return datetime.strptime(text, "%Y-%m-%d").date() if text else None
    except ValueError:
        return None

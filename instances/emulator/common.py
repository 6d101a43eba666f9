"""What the vendor modules share: the request context and time formatting."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from starlette.requests import Request
from starlette.responses import Response

from .scenario import Run, Scenario, Step

CHINA = timezone(timedelta(hours=8))


@dataclass
class World:
    """What every handler reads: the scenario and the tokens handed out so far."""

    scenario: Scenario
    tokens: dict[str, datetime]  # token → expiry (emulator clock)

    def token_valid(self, token: str) -> bool:
        expiry = self.tokens.get(token)
        return expiry is not None and self.scenario.now() < expiry


def world(request: Request) -> World:
    return request.app.state.world


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status, headers, media_type="application/json")


def iso_offset(moment: datetime | None) -> str | None:
    """OCP style: +08:00 offset, fraction digits trimmed (…31+08:00, …31.74+08:00)."""
    if moment is None:
        return None
    local = moment.astimezone(CHINA)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if local.microsecond:
        text += ("." + f"{local.microsecond:06d}"[:3]).rstrip("0").rstrip(".")
    return text + "+08:00"


def naive_local(moment: datetime | None, zone=CHINA) -> str | None:
    """EnOS style: naive yyyy-MM-dd HH:mm:ss in the backend's zone."""
    return None if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def epoch_ms(moment: datetime | None) -> int:
    """Huawei style: epoch milliseconds, 0 for "not yet"."""
    return 0 if moment is None else int(moment.timestamp() * 1000)


def utc(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


RunsById = dict[str, tuple[Run, Step | None]]


def by_run_id(scenario: Scenario, api: str) -> RunsById:
    """Runs under their string ids (EnOS flow instance ids)."""
    return {run.id: (run, None) for run in scenario.visible(api)}


def by_seq(scenario: Scenario, api: str) -> RunsById:
    """Runs under their integer sequence ids (OCP task ids, DataArts instance ids)."""
    return {str(run.seq): (run, None) for run in scenario.visible(api)}


def patched(record: dict, run: Run, step_index: int | None = None) -> dict:
    """The record with the fields the control API set on this run (or its step) overwritten."""
    fields = (
        run.patch.get("record")
        if step_index is None
        else (run.patch.get("steps", {}).get(str(step_index)))
    )
    return record | fields if fields else record


# A definition's period as a 7-field Quartz cron, as EnOS (`freq`) and DataArts (a job's
# schedule.cron.expression) write theirs; days of the week count from Sunday = 1.
QUARTZ = {
    300: "0 0/5 * * * ? *",
    900: "0 0/15 * * * ? *",
    3600: "0 0 * * * ? *",
    86400: "0 0 0 * * ? *",
    604800: "0 0 0 ? * 1 *",
    2592000: "0 0 0 1 * ? *",
}


def quartz(period: timedelta) -> str:
    return QUARTZ.get(int(period.total_seconds()), QUARTZ[86400])

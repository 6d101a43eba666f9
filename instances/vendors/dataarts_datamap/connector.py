"""Huawei DataArts Catalog / Data Map "Output Information": runs of watched job operators, a
JSON string inside a proxy envelope (seed 002), behind the same IAM or AK/SK as Factory."""

from datetime import UTC, datetime
from urllib.parse import quote

from instances.connectors import base
from instances.connectors.base import RunRecord
from instances.connectors.normalize import epoch_ms, nested_json
from instances.connectors.paging import ambiguous_offset_pages
from instances.status import Kind
from instances.vendors.dataarts_factory.connector import (
    PAGE_SIZE,
    WINDOW_LIMIT,
    DataArts,
    ms,
    windows,
)


class DataArtsDataMap(DataArts):
    kind = "dataarts_datamap"
    label = "Huawei DataArts Data Map"
    scope_header = "instance"

    def watched(self) -> list[dict]:
        """The operators to follow: from the scope, or every operator of a table (ShowNodes)."""
        if jobs := self.config.scope.get("jobs"):
            return jobs
        guid = self.config.scope.get("table_guid", "")
        found = self.get(f"/datamap/table/{quote(guid, safe='')}/node", self.headers)
        if not isinstance(found, list):
            raise base.BadPayload("ShowNodes did not answer a list")
        return found

    def iter_pages(self, since):
        now = datetime.now(UTC)
        for operator in self.watched():
            for low, high in windows(since, now):
                yield from self.operator_pages(operator, low, high)

    def operator_pages(self, operator: dict, low: datetime, high: datetime):
        path = f"/datamap/node/{quote(str(operator['task_id']))}/instances"

        def fetch(offset, limit):
            params = {
                "job_name": operator["job_name"],
                "start_time": ms(low),
                "end_time": ms(high),
                "offset": offset,
                "limit": limit,
            }
            if workspace := self.config.scope.get("workspace_id"):
                params["workspace_id"] = workspace
            body = self.unwrap(self.get(path, self.headers, **params))
            return body.get("rows"), int(body.get("total") or 0)

        for rows in ambiguous_offset_pages(fetch, PAGE_SIZE):
            yield self.each(self.row_record, rows)

    @staticmethod
    def unwrap(envelope) -> dict:
        """The proxy envelope: inner status_code, and the real body as a JSON string."""
        if not isinstance(envelope, dict) or "body" not in envelope:
            raise base.BadPayload("Data Map answer is not a proxy envelope")
        if envelope.get("status_code") not in (200, None):
            raise base.VendorError(envelope["status_code"], str(envelope.get("body"))[:300])
        problems: list[str] = []
        body = nested_json(envelope["body"], problems, "body")
        if not isinstance(body, dict) or body.get("success") is False:
            raise base.BadPayload(f"Data Map body unreadable: {problems or str(body)[:200]}")
        return body

    def row_record(self, row: dict) -> RunRecord:
        if row.get("taskRunningLogId") is None:
            raise base.BadPayload(f"operator run without taskRunningLogId: {str(row)[:200]}")
        problems: list[str] = []
        for field in ("runningData", "runningParam"):  # the third level of encoding
            nested_json(row.get(field), problems, field)
        status, flags = self.status(row.get("status"), forced=bool(row.get("forceSuccess")))
        retries = row.get("retryTimes")
        return RunRecord(
            external_id=str(row["taskRunningLogId"]),
            kind=Kind.TASK,
            name=row.get("taskName") or str(row.get("taskId")),
            status=status,
            vendor_status=str(row.get("status")),
            definition_id=str(row.get("taskId", "")),
            definition_name=f"{row.get('jobName', '')} / {row.get('taskName', '')}",
            flags=flags,
            planned_at=epoch_ms(row.get("planTime")),
            started_at=epoch_ms(row.get("startTime")),
            finished_at=epoch_ms(row.get("endTime")),
            attempts=retries + 1 if isinstance(retries, int) else None,
            owner=row.get("owner") or "",
            log_locator=row.get("executionLogPath") or "",
            error_message="; ".join(problems),
            has_children=True,
            raw=row,
        )

    def expand(self, records):
        return list(records)  # operator runs have no children

    # its refresh re-reads the whole window anyway: every finished run in it costs nothing more
    finished_rereads = 10_000

    def refresh(self, external_ids):
        """No get-by-id: re-read the widest window the API allows and keep those runs; one it
        no longer lists there (deleted, or older than the window reaches) is gone."""
        wanted = set(external_ids)
        since = datetime.now(UTC) - WINDOW_LIMIT
        found = [r for page in self.iter_pages(since) for r in page if r.external_id in wanted]
        self.gone.extend(wanted - {r.external_id for r in found})
        return found


CONNECTORS = (DataArtsDataMap,)

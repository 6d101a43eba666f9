"""A scripted connector: tests say what the vendor holds, sync polls it like any other."""

from dataclasses import replace
from datetime import UTC, datetime

from instances.connectors.base import Connector, LogChunk, RunRecord
from instances.status import Kind, Status

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def flow(ext: str, status=Status.RUNNING, **kw) -> RunRecord:
    return RunRecord(
        external_id=ext,
        kind=Kind.FLOW,
        name=f"flow {ext}",
        status=status,
        vendor_status=str(status),
        started_at=T0,
        raw={"id": ext, "status": str(status)},
        **kw,
    )


def task(ext: str, parent: str, status=Status.RUNNING) -> RunRecord:
    return RunRecord(
        external_id=ext,
        kind=Kind.TASK,
        name=f"task {ext}",
        status=status,
        vendor_status=str(status),
        parent_id=parent,
        started_at=T0,
    )


class FakeConnector(Connector):
    """`vendor` maps flow id → (flow record, [children], [edges]); shared by every instance."""

    kind = "fake"
    label = "Fake"
    vendor: dict[str, tuple[RunRecord, list[RunRecord], list[tuple[str, str]]]] = {}
    page_size = 2
    calls: list[str] = []
    fail_on_page: int | None = None
    error: Exception | None = None

    def iter_pages(self, since):
        self.calls.append("list")
        roots = [root for root, _, _ in self.vendor.values()]
        for number, start in enumerate(range(0, len(roots), self.page_size)):
            if self.error and self.fail_on_page in (None, number):
                raise self.error
            yield roots[start : start + self.page_size]

    def expand(self, records):
        out = []
        for record in records:
            self.calls.append(f"expand {record.external_id}")
            root, children, edges = self.vendor[record.external_id]
            out.append(replace(root, has_children=True, edges=tuple(edges)))
            out += children
        return out

    def refresh(self, external_ids):
        self.calls.append(f"refresh {','.join(sorted(external_ids))}")
        return [self.vendor[ext][0] for ext in external_ids if ext in self.vendor]

    def fetch_log(self, external_id, log_locator, max_bytes):
        return LogChunk(text=f"log of {external_id}", truncated=False)

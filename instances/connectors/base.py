"""What every connector shares: the RunRecord it hands to sync, its interface, its errors.

Connectors know HTTP and vendor formats and nothing of the database.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

import httpx

from instances import errors
from instances.status import Kind, Status

from .acting import ANSWER_KEPT, Move, Target, VendorAnswer, VendorCall
from .parallel import DETAIL_CONCURRENCY, in_parallel

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BackendConfig:
    """The part of a Backend row a connector may see (decrypted credentials included)."""

    base_url: str
    scope: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    timezone: str = ""  # of the vendor's naive times; "": ask the vendor (EnOS getTimeZone)
    name: str = ""


@dataclass(frozen=True, slots=True)
class EarlierTry:
    """A try of a run or step before its current one, as the vendor lists it."""

    number: int
    status: Status
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error_message: str = ""
    log_locator: str = ""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run as a vendor reported it, normalized. Identity is (backend, external_id)."""

    external_id: str
    kind: Kind
    name: str
    status: Status
    vendor_status: str
    parent_id: str | None = None  # external_id of the parent run, if any
    definition_id: str = ""
    definition_name: str = ""
    flags: tuple[str, ...] = ()  # forced, failure_ignored, timeout, suspended, canceling, ...
    planned_at: datetime | None = None  # all datetimes are aware UTC
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: timedelta | None = None
    attempts: int | None = None
    owner: str = ""
    executor: str = ""
    cycle: str = ""
    schedule: str = ""  # the definition's cron, as the vendor writes it (Quartz or Unix)
    business_date: date | None = None
    log_locator: str = ""
    error_message: str = ""
    edges: tuple[tuple[str, str], ...] = ()  # (upstream, downstream) external_ids of children
    has_children: bool = False  # True when this record's children were fetched with it
    tries: tuple[EarlierTry, ...] = ()  # its earlier tries, where the vendor lists them
    raw: Any = None


@dataclass(frozen=True, slots=True)
class LogChunk:
    text: str
    truncated: bool  # more exists before `text` (we read tail first)
    download_url: str = ""  # where the vendor keeps the whole log, when it says


class ConnectorError(Exception):
    """Anything a poll can fail with; sync records str(error) on the backend."""


class AuthError(ConnectorError):
    pass


class RateLimited(ConnectorError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class VendorError(ConnectorError):
    def __init__(self, code: str | int, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class BadPayload(ConnectorError):
    pass


# What reading one malformed vendor record raises: that record is skipped, not the poll.
UNREADABLE = (BadPayload, ValueError, TypeError, KeyError, AttributeError, OverflowError)


# A failed step without an error message: this much of its log's tail is read for one.
LOG_ERROR_BYTES = 16 * 1024
LOG_ERRORS_PER_RUN = 3


class Connector(ABC):
    """One vendor API. Subclasses are mostly declarations plus their own quirks."""

    kind: ClassVar[str]
    label: ClassVar[str]
    # vendor error codes that mean "no run with that id" (deleted on the vendor side)
    gone_codes: ClassVar[frozenset] = frozenset()
    # its runs are pushed to Runboard (OpenLineage), never polled
    pushed: ClassVar[bool] = False
    # finished runs read again a poll (a run that ended is not final): one detail call each,
    # unless the vendor's refresh reads a whole window whatever it is asked for
    finished_rereads: ClassVar[int] = 20

    def __init__(self, config: BackendConfig):
        self.config = config
        # What a poll must hear of, without failing: runs the vendor no longer knows, and why
        # records were skipped. Sync takes them after every page (list.append is thread-safe).
        self.gone: list[str] = []
        self.skipped: list[str] = []
        # a vendor with a tight rate limit may want fewer calls in flight (scope setting)
        wanted = str(config.scope.get("detail_concurrency", DETAIL_CONCURRENCY))
        self.concurrency = min(max(int(wanted), 1), 32) if wanted.isdigit() else DETAIL_CONCURRENCY

    @abstractmethod
    def iter_pages(self, since: datetime | None) -> Iterator[list[RunRecord]]:
        """Top-level runs active or triggered since `since` (None: the vendor's default
        window), a page at a time, without children."""

    def expand(self, records: Iterable[RunRecord]) -> list[RunRecord]:
        """Detail for these top-level runs: each record again, with has_children=True and
        its edges, followed by its children."""
        return self.refresh(r.external_id for r in records)

    def refresh(self, external_ids: Iterable[str]) -> list[RunRecord]:
        """Current state of these top-level runs (stored but not yet terminal)."""
        return in_parallel(self.detail_or_note, external_ids, self.concurrency)

    def detail_or_note(self, external_id: str) -> list[RunRecord]:
        """detail(), but a run the vendor no longer knows, or whose detail cannot be read, is
        noted for the poll instead of failing it."""
        try:
            return self.with_log_errors(self.detail(external_id))
        except VendorError as exc:
            if not self.is_gone(exc):
                raise
            self.gone.append(external_id)
        except UNREADABLE as exc:
            self.skip(external_id, exc)
        return []

    def with_log_errors(self, records: list[RunRecord]) -> list[RunRecord]:
        """Failed steps (and failed earlier tries) the vendor gave no error message for get
        the error lines of their log's tail, a few per run: on-call needs the words, not only
        the status."""
        budget = [LOG_ERRORS_PER_RUN]

        def explained(status, error: str, external_id: str, locator: str) -> str:
            if status != Status.FAILED or error or not locator or budget[0] <= 0:
                return error
            budget[0] -= 1
            return self.log_errors(external_id, locator)

        out = []
        for record in records:
            if record.parent_id:
                error = explained(
                    record.status, record.error_message, record.external_id, record.log_locator
                )
                tries = tuple(
                    replace(
                        earlier,
                        error_message=explained(
                            earlier.status,
                            earlier.error_message,
                            record.external_id,
                            earlier.log_locator,
                        ),
                    )
                    for earlier in record.tries
                )
                if error != record.error_message or tries != record.tries:
                    record = replace(record, error_message=error, tries=tries)
            out.append(record)
        return out

    def log_errors(self, external_id: str, log_locator: str) -> str:
        try:
            chunk = self.fetch_log(external_id, log_locator, LOG_ERROR_BYTES)
        except (ConnectorError, *UNREADABLE) as exc:  # the run is read all the same
            log.info("%s: no log for %s: %s", self.config.name, external_id, exc)
            return ""
        return self.error_in_log(chunk.text)

    def error_in_log(self, text: str) -> str:
        """What a failed step's log says went wrong: its first error-looking lines."""
        return "\n".join(line for _, line in errors.error_lines(text, limit=5))

    def is_gone(self, error: VendorError) -> bool:
        """The vendor says no such run (or task) exists: deleted on its side."""
        return error.code in self.gone_codes

    def each(self, parse: Callable[[Any], RunRecord], items: Iterable) -> list[RunRecord]:
        """parse(item) for every item; an item that cannot be read is skipped and noted, and
        the others are kept."""
        records = []
        for item in items:
            try:
                records.append(parse(item))
            except UNREADABLE as exc:
                ident = item.get("id", item.get("instanceId", "")) if isinstance(item, dict) else ""
                self.skip(str(ident)[:100], exc)
        return records

    def skip(self, what: str, error: Exception) -> None:
        reason = f"{what or 'record'}: {type(error).__name__}: {str(error)[:200]}"
        log.warning("%s: skipped unreadable record %s", self.config.name, reason)
        self.skipped.append(reason)

    def detail(self, external_id: str) -> list[RunRecord]:
        """One top-level run read by its id, with has_children=True, then its children."""
        raise NotImplementedError(f"{self.kind} has no detail call")

    @abstractmethod
    def fetch_log(self, external_id: str, log_locator: str, max_bytes: int) -> LogChunk:
        """The tail of one run's log, at most max_bytes."""

    # -- acting (instances/connectors/acting.py) ----------------------------------------------

    # the actions the vendor documents, by name; none: its backends only read
    moves: ClassVar[dict[str, Move]] = {}

    def call_for(self, move: Move, target: Target) -> VendorCall:
        """The one request that makes `move` on `target`."""
        raise NotImplementedError(f"{self.kind} documents no {move.name}")

    def dry_run(self, move: Move, target: Target) -> list[str] | None:
        """The steps the vendor says the move would touch, where it has a dry run; None: the
        preview is read from the run's DAG instead."""
        return None

    def schedule_paused(self, target: Target) -> bool | None:
        """Whether the target's definition is paused now, where the vendor tells."""
        return None

    def send(self, call: VendorCall) -> VendorAnswer:
        """Send it once and read the answer in the vendor's words."""
        response = self.http_client().once(
            call.method,
            call.path,
            params=call.params or None,
            content=call.content,
            headers={"Content-Type": "application/json", **call.headers}
            if call.content
            else call.headers or None,
        )
        return self.answer_of(response)

    def http_client(self):
        return self.http  # type: ignore[attr-defined]

    def answer_of(self, response: httpx.Response) -> VendorAnswer:
        """Accepted on a 2xx; the vendor's error words otherwise (each vendor says more)."""
        text = response.text[:ANSWER_KEPT]
        ok = response.is_success
        return VendorAnswer(response.status_code, ok, "" if ok else text[:300], body=text)

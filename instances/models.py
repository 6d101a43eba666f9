"""The normalized model: every vendor's runs in one shape."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import crypto, jsontext
from .connectors.base import BackendConfig
from .registry import PUSHED_KINDS, kind_choices
from .status import UNFINISHED, Kind, Status
from .zones import validate_zone

__all__ = ["Backend", "Edge", "Instance", "Kind", "Poll", "Status", "StatusChange"]

RAW_PAYLOAD_LIMIT = 64 * 1024  # bytes of vendor JSON kept per instance


def team_scope(user, team_path: str) -> Q | None:
    """None means "everything" (superusers); an empty Q-less result means nothing."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if user.is_superuser:
        return None
    return Q(**{f"{team_path}__in": Group.objects.filter(memberships__user=user)})


STALE_AFTER = 3  # poll intervals without success before a backend is flagged stale


class BackendQuerySet(models.QuerySet):
    def visible_to(self, user) -> BackendQuerySet:
        scope = team_scope(user, "team")
        return self if scope is None else self.filter(scope)


class Backend(models.Model):
    """One configured vendor endpoint, with the health its polls leave behind."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=40, choices=kind_choices)
    base_url = models.URLField(max_length=500)
    scope = models.JSONField(default=dict, blank=True, help_text="orgId/userId, project_id, …")
    credentials_encrypted = models.TextField(blank=True, editable=False)
    # acting on the vendor (retry, stop…) is off unless turned on; it may use a credential of
    # its own, more privileged than the polls' (blank: the polls' credential)
    may_act = models.BooleanField(
        default=False, help_text="Operators may retry, stop and rerun its runs from Runboard."
    )
    acting_credentials_encrypted = models.TextField(blank=True, editable=False)
    # a push (OpenLineage) backend's bearer token, hashed (manage.py create_push_token)
    push_token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    timezone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        validators=[validate_zone],
        help_text="IANA zone of the vendor's times without an offset; blank: the vendor's own "
        "(EnOS getTimeZone).",
    )
    poll_interval = models.PositiveIntegerField(default=30, help_text="seconds")
    enabled = models.BooleanField(default=True)
    team = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL)

    # Health, written by sync after every poll.
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # what reacts to stored runs (alerting) and failed: counted, never failing the poll
    observer_failures = models.PositiveIntegerField(default=0)
    last_observer_error = models.TextField(blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    watermark = models.DateTimeField(null=True, blank=True, help_text="newest run time seen")
    next_poll_at = models.DateTimeField(null=True, blank=True)
    # the vendor asked not to be called before this (Retry-After): nothing polls it sooner
    not_before = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    objects = BackendQuerySet.as_manager()

    class Meta:
        indexes = [
            # poll_due_backends: enabled backends whose next poll is due.
            models.Index(fields=["enabled", "next_poll_at"], name="backend_due_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def credentials(self) -> dict[str, str]:
        return crypto.decrypt(self.credentials_encrypted)

    @credentials.setter
    def credentials(self, secrets: dict[str, str]) -> None:
        self.credentials_encrypted = crypto.encrypt(secrets)

    @property
    def acting_credentials(self) -> dict[str, str]:
        return crypto.decrypt(self.acting_credentials_encrypted)

    @acting_credentials.setter
    def acting_credentials(self, secrets: dict[str, str]) -> None:
        self.acting_credentials_encrypted = crypto.encrypt(secrets) if secrets else ""

    @property
    def data_age(self) -> float | None:
        """Seconds since the last successful poll; None before the first."""
        success = self.last_success_at
        return (timezone.now() - success).total_seconds() if success else None

    @property
    def is_stale(self) -> bool:
        """No successful poll yet, or none for STALE_AFTER poll intervals (never, for a backend
        its scheduler pushes to: its silence may be a quiet night)."""
        if self.kind in PUSHED_KINDS:
            return False
        age = self.data_age
        return age is None or age > self.poll_interval * STALE_AFTER

    @property
    def masked_credentials(self) -> dict[str, str]:
        return {key: crypto.mask(str(value)) for key, value in self.credentials.items()}

    def console_url(self, run: Instance) -> str:
        """The run in the vendor's own console, from the pattern in scope["console_url"]
        ({external_id}, {definition_id}); empty without an http(s) pattern."""
        pattern = str(self.scope.get("console_url", ""))
        if not pattern.startswith(("https://", "http://")):
            return ""
        return pattern.replace("{external_id}", quote(run.external_id, safe="")).replace(
            "{definition_id}", quote(run.definition_id, safe="")
        )

    def connector_config(self, acting: bool = False) -> BackendConfig:
        """What a connector sees; `acting`: with the acting credential, where there is one."""
        return BackendConfig(
            base_url=self.base_url,
            scope=self.scope,
            credentials=(acting and self.acting_credentials) or self.credentials,
            timezone=self.timezone,
            name=self.name,
        )


class InstanceQuerySet(models.QuerySet):
    def visible_to(self, user) -> InstanceQuerySet:
        """The runs of the user's teams' backends, named by id: a list of a few ids is a
        condition on the run's own column, which an index scan checks as it goes (a join to
        the backends, row by row, cost a walk of 25,000 runs 20 ms at 1 M)."""
        scope = team_scope(user, "team")
        if scope is None:
            return self
        visible = Backend.objects.filter(scope).values_list("pk", flat=True)
        return self.filter(backend_id__in=list(visible))

    def roots(self) -> InstanceQuerySet:
        return self.filter(parent__isnull=True)

    def failed(self) -> InstanceQuerySet:
        return self.filter(status=Status.FAILED)

    def active(self) -> InstanceQuerySet:
        return self.filter(status__in=UNFINISHED)

    def in_window(self, start, end=None) -> InstanceQuerySet:
        qs = self.filter(run_at__gte=start)
        return qs if end is None else qs.filter(run_at__lt=end)

    def as_listed(self) -> InstanceQuerySet:
        """Runs as a list shows them: with their backend and their parent's name, without
        the vendor's payload (kilobytes a run, parsed as JSON) nor the parent's whole row."""
        return (
            self.select_related("backend")
            .defer("raw", "flags")
            .annotate(parent_name=F("parent__name"))
        )


class Instance(models.Model):
    """One run of anything: a flow, job, task, node or subtask, on one backend."""

    # No index of its own: the (backend, external_id) unique index serves backend lookups.
    backend = models.ForeignKey(
        Backend, on_delete=models.CASCADE, related_name="instances", db_index=False
    )
    external_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(max_length=500)
    definition_id = models.CharField(max_length=200, blank=True)
    definition_name = models.CharField(max_length=500, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNKNOWN)
    vendor_status = models.CharField(max_length=100, blank=True)
    flags = models.JSONField(default=list, blank=True)

    planned_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    # When the run happened, for windows and the default sort: started, else planned,
    # else first seen. Never null, so one index serves every list.
    run_at = models.DateTimeField()

    attempts = models.PositiveIntegerField(null=True, blank=True)
    owner = models.CharField(max_length=200, blank=True)
    executor = models.CharField(max_length=200, blank=True)
    cycle = models.CharField(max_length=20, blank=True)
    business_date = models.DateField(null=True, blank=True)
    log_locator = models.CharField(max_length=1000, blank=True)
    error_message = models.TextField(blank=True)
    # a failed top-level run's error signature (its culprit step's error, else its own), kept
    # by sync so the failure inbox groups in SQL; NULL until signed, and for other runs ("" is
    # a failure without an error message)
    failure_signature = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    raw = models.JSONField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, help_text="hash of the raw entry")

    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    # the vendor answered "no such run" for it: its last known state is kept, never re-read
    gone_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField()
    updated_at = models.DateTimeField(help_text="last time any stored field changed")

    objects = InstanceQuerySet.as_manager()

    class Meta:
        constraints = [
            # sync upserts by vendor identity; a run exists once per backend.
            models.UniqueConstraint(
                fields=["backend", "external_id"], name="instance_unique_per_backend"
            ),
        ]
        indexes = [
            # runs list: default window and keyset order (run_at desc, id desc).
            models.Index(fields=["-run_at", "-id"], name="instance_run_at_idx"),
            # ... of top-level runs (the list's default, and a name search among them, which
            # walks it newest first when the name is common)
            models.Index(
                fields=["-run_at", "-id"],
                name="instance_root_run_at_idx",
                condition=Q(parent__isnull=True),
            ),
            # runs list filtered by status (failed/running counters, failure inbox).
            models.Index(fields=["status", "-run_at"], name="instance_status_run_at_idx"),
            # sync: a backend's unfinished top-level runs, least recently seen first. Partial:
            # the few unfinished runs only, so finished ones cost it nothing to write.
            models.Index(
                fields=["backend", "last_seen"],
                name="instance_unfinished_idx",
                condition=Q(status__in=UNFINISHED, parent__isnull=True),
            ),
            # pasting a vendor id into search jumps to the run, whatever the backend.
            models.Index(fields=["external_id"], name="instance_external_id_idx"),
            # history of one definition (previous runs strip, run-history grid).
            models.Index(
                fields=["backend", "definition_id", "-run_at"], name="instance_definition_idx"
            ),
            # the run list's other sorts, keyset-paged by (field, id): no sort of the table;
            # top-level runs (the list's default) in their own, or a descending page walks
            # past every step first
            models.Index(fields=["name", "id"], name="instance_name_idx"),
            models.Index(
                fields=["name", "id"],
                name="instance_root_name_idx",
                condition=Q(parent__isnull=True),
            ),
            models.Index(fields=["status", "id"], name="instance_status_id_idx"),
            models.Index(
                fields=["status", "id"],
                name="instance_root_status_idx",
                condition=Q(parent__isnull=True),
            ),
            # an owner's runs, newest first (an owner with few runs must not scan them all)
            models.Index(fields=["owner", "-run_at"], name="instance_owner_idx"),
            # the failure inbox: failed top-level runs of a window, grouped by definition and
            # signature (PostgreSQL reads the grouped columns from the index alone) …
            models.Index(
                fields=["-run_at"],
                name="instance_failed_root_idx",
                condition=Q(parent__isnull=True, status="FAILED"),
                include=["backend", "definition_id", "failure_signature"],
            ),
            # … the failures of one signature, newest first (the run list's signature filter,
            # the link of an inbox group) …
            models.Index(
                fields=["failure_signature", "-run_at", "-id"],
                name="instance_signature_idx",
                condition=Q(parent__isnull=True, status="FAILED"),
            ),
            # … and the few failed runs not signed yet (stored before signatures were kept)
            models.Index(
                fields=["id"],
                name="instance_unsigned_failure_idx",
                condition=Q(parent__isnull=True, status="FAILED", failure_signature__isnull=True),
            ),
            # (PostgreSQL: a trigram index on UPPER(name) serves the substring search;
            # migrations 0014 and 0020, as SQLite has no such index)
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    @property
    def status_enum(self) -> Status:
        return Status(self.status)


class RunName(models.Model):
    """A name some run (or step) of a backend has had. A search by part of a name looks here
    first (a few thousand names, not millions of runs), then reads the runs of the names it
    found by their own index. Kept by the database on every write of a run (migration 0025),
    so no writer can forget it; a name whose runs are all pruned stays, and costs a search
    one index probe."""

    # no index of its own: the unique (backend, name, step) index serves backend lookups
    backend = models.ForeignKey(Backend, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=500)
    # as PostgreSQL's UPPER() folds it, kept with it: folding 17,000 names at each search
    # took three times as long as matching them
    folded = models.CharField(max_length=500)
    step = models.BooleanField()  # a step's name, or a top-level run's: searched apart

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["backend", "name", "step"], name="run_name_unique"),
        ]
        # (PostgreSQL: a trigram index on the folded name, migration 0025)

    def __str__(self) -> str:
        return self.name


CRON_LENGTH = 200  # a longer vendor cron is no schedule (instances/schedules.py)


class Schedule(models.Model):
    """A definition's schedule as its vendor last gave it with a run (a cron expression), or
    as learned from its runs' starts when no vendor gives one; the expected-run ledger and the
    missing rule read it."""

    backend = models.ForeignKey(Backend, on_delete=models.CASCADE, related_name="+")
    definition_id = models.CharField(max_length=200)
    definition_name = models.CharField(max_length=500, blank=True)  # named where none ran
    cron = models.CharField(max_length=CRON_LENGTH)
    learned = models.BooleanField(default=False)  # from its runs' starts: no vendor gave one
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["backend", "definition_id"], name="schedule_of")
        ]

    def __str__(self) -> str:
        return f"{self.definition_id}: {self.cron}"


class DataProduct(models.Model):
    """What people wait for, made by several definitions on any of the team's backends (the
    morning sales report: an EnOS flow, a DataArts job, an Airflow DAG): a late rule holds
    them to one deadline together, and the timeline can band by it."""

    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="data_products")
    name = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="product_name")]

    def __str__(self) -> str:
        return self.name


MOST_PARTS = 200  # definitions a data product holds: its late rule reads each every minute


class ProductPart(models.Model):
    """One definition of a data product."""

    product = models.ForeignKey(DataProduct, on_delete=models.CASCADE, related_name="parts")
    backend = models.ForeignKey(Backend, on_delete=models.CASCADE, related_name="+")
    definition_id = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product", "backend", "definition_id"], name="product_part"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.definition_id}"


class Edge(models.Model):
    """upstream → downstream between two children of one parent run."""

    parent = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="edges")
    upstream = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="+")
    downstream = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            # sync replaces a parent's edges; an edge exists once.
            models.UniqueConstraint(fields=["upstream", "downstream"], name="edge_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.upstream_id} → {self.downstream_id}"


class StatusChange(models.Model):
    """One observed transition; vendors expose only current state, our polls build history."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Status.choices)
    vendor_status = models.CharField(max_length=100, blank=True)
    observed_at = models.DateTimeField()
    vendor_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # status timeline of one run, in order.
            models.Index(fields=["instance", "observed_at"], name="change_timeline_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.from_status or '∅'} → {self.to_status} at {self.observed_at:%Y-%m-%d %H:%M:%S}"
        )


class Try(models.Model):
    """An earlier try of a run or step that ran again in place (a retry): what it ended as and
    why, as the vendor lists its tries, or as Runboard saw it before the next try began."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    log_locator = models.CharField(max_length=1000, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instance", "number"], name="try_unique"),
        ]

    def __str__(self) -> str:
        return f"try {self.number}: {self.status}"


class Poll(models.Model):
    """One poll of one backend: what it fetched, what it changed, how it ended."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        OK = "ok", _("OK")
        PARTIAL = "partial", _("Partial")
        ERROR = "error", _("Error")
        ABANDONED = "abandoned", _("Abandoned")  # its worker died mid-poll

    backend = models.ForeignKey(Backend, on_delete=models.CASCADE, related_name="polls")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    error = models.TextField(blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            # backend health: the latest polls of one backend (sparkline, error rate).
            models.Index(fields=["backend", "-started_at"], name="poll_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.backend_id} {self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}"


def raw_payload_json(raw: Any, limit: int = RAW_PAYLOAD_LIMIT) -> str:
    """Vendor JSON as stored: oversized payloads become a marked, truncated head."""
    text = jsontext.dumps(raw)
    if "\\u0000" in text or UNSTORABLE.search(text):  # rare, so look before cleaning
        text = jsontext.dumps(storable(raw))
    size = len(text.encode())
    if size <= limit:
        return text
    return json.dumps({"_truncated": True, "_bytes": size, "head": text[: limit // 2]})


# PostgreSQL text and jsonb cannot hold NUL, nor UTF-8 a lone surrogate (which a JSON
# "\ud800" escape produces): vendors' strings get U+FFFD in their place.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """A string, or a vendor's JSON, with every unstorable character replaced."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value


class Rollup(models.Model):
    """Runs per backend × kind × definition × status × hour, kept current by sync so that
    summaries read a few thousand counters instead of scanning millions of runs."""

    # No index of its own: the bucket's unique index starts with it (one less to write on
    # each of a page's thousand counter moves)
    backend = models.ForeignKey(Backend, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    top_level = models.BooleanField(default=True)  # a run without a parent
    definition_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    hour = models.DateTimeField()
    runs = models.IntegerField(default=0)
    duration_seconds = models.FloatField(default=0)  # summed over runs that have a duration
    timed_runs = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # sync adds deltas to one bucket with INSERT … ON CONFLICT.
            models.UniqueConstraint(
                fields=["backend", "kind", "top_level", "definition_id", "status", "hour"],
                name="rollup_bucket",
            ),
        ]
        # The read side counts top-level runs only, per visible backend: partial indexes
        # that hold every column read, so a month of counters is read from the index alone.
        indexes = [
            # alerting: the definitions of a backend that ran lately.
            models.Index(fields=["hour"], name="rollup_hour_idx"),
            # overview: the definitions that failed most in a window ...
            models.Index(
                fields=["backend", "status", "hour"],
                name="rollup_root_status_idx",
                condition=Q(top_level=True),
                include=["definition_id", "runs"],
            ),
            # ... and their totals; a definition's usual duration (stuck runs).
            models.Index(
                fields=["backend", "definition_id", "status", "hour"],
                name="rollup_root_definition_idx",
                condition=Q(top_level=True),
                include=["runs", "duration_seconds", "timed_runs"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.backend_id} {self.definition_id} {self.status} {self.hour:%Y-%m-%d %H}h"


class ApiToken(models.Model):
    """A person's bearer token for the API and /metrics; only its hash is stored. It reads
    what its person may, as they may now: their teams and roles are looked up at each use,
    so a person removed from a team, or deactivated, loses that through their tokens at once.
    A login lockout guards the password form only, and leaves tokens working."""

    EXPIRY_DAYS = (30, 90, 365)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)  # token lookup on every request
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # blank: tokens made before expiry
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @classmethod
    def issue(cls, user, name: str, days: int = 90) -> str:
        """A new token's key, shown once."""
        key = crypto.new_key()
        expires_at = timezone.now() + timedelta(days=days)
        cls.objects.create(
            user=user, name=name, key_hash=crypto.key_hash(key), expires_at=expires_at
        )
        return key

    @classmethod
    def user_for(cls, key: str):
        """The active person this live token belongs to, or None."""
        now = timezone.now()
        token = (
            cls.objects.select_related("user")
            .filter(key_hash=crypto.key_hash(key), revoked_at__isnull=True)
            .exclude(expires_at__lte=now)
            .first()
        )
        if token is None or not token.user.is_active:
            return None
        if token.last_used_at is None or token.last_used_at < now - timedelta(minutes=1):
            cls.objects.filter(pk=token.pk).update(last_used_at=now)  # once a minute at most
        return token.user

    def is_live(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class StatusRollup(models.Model):
    """Runs per backend × status × hour, all definitions together: what the overview's
    counts, chart and matrix read (a few thousand rows for a month, however many flows)."""

    # No index of its own, as Rollup's
    backend = models.ForeignKey(Backend, on_delete=models.CASCADE, related_name="+", db_index=False)
    top_level = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    hour = models.DateTimeField()
    runs = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # sync adds deltas to one bucket with INSERT … ON CONFLICT.
            models.UniqueConstraint(
                fields=["backend", "top_level", "status", "hour"], name="status_rollup_bucket"
            ),
        ]
        indexes = [
            # overview: counts, chart and matrix of a window, from the index alone.
            models.Index(
                fields=["backend", "hour"],
                name="status_rollup_root_idx",
                condition=Q(top_level=True),
                include=["status", "runs"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.backend_id} {self.status} {self.hour:%Y-%m-%d %H}h: {self.runs}"

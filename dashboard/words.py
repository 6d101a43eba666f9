"""Our own short codes as people read them, in their language: a run's flags (from the
vendors' status tables), the time windows and what an alert's message told."""

from django.utils.translation import gettext_lazy as _

FLAGS = {
    "manual": _("manual"),
    "backfill": _("backfill"),
    "asset_triggered": _("asset triggered"),
    "scheduled": _("scheduled"),
    "awaiting_input": _("awaiting input"),
    "canceling": _("canceling"),
    "deferred": _("deferred"),
    "failure_ignored": _("failure ignored"),
    "forced": _("forced success"),
    "frozen": _("frozen"),
    "no_status": _("no status yet"),
    "paused": _("paused"),
    "removed": _("removed"),
    "rescheduled": _("rescheduled"),
    "restarting": _("restarting"),
    "retrying": _("retrying"),
    "rolled_back": _("rolled back"),
    "suspended": _("suspended"),
    "timeout": _("timed out"),
    "upstream_failed": _("upstream failed"),
}
WINDOWS = {
    "1h": _("1 hour"),
    "6h": _("6 hours"),
    "24h": _("24 hours"),
    "7d": _("7 days"),
    "30d": _("30 days"),
    "all": _("all time"),
    "custom": _("custom"),
}
EVENTS = {  # {number}: a reminder's
    "fired": _("fired"),
    "resolved": _("resolved"),
    "reminder": _("reminder {number}"),
}

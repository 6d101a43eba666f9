"""The failure inbox's rows, built in Python as the runs list's are (dashboard/run_rows.py):
the template engine spent ~25 ms of the inbox on its 100 groups of some 30 lookups each. The
markup is the template's as it was, one group at a time."""

from django.template.defaultfilters import urlencode
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from dashboard.markup import markup, markup_rows
from dashboard.templatetags.runboard import Clock, bdi, definition_url, run_url

ROW = """<tr>
  <td data-label="{}"><a href="{}?id={}"><bdi>{}</bdi></a>{}</td>
  <td data-label="{}"><bdi>{}</bdi></td>
  <td data-label="{}"><span>{}</span></td>
  <td data-label="{}"><a href="{}?{}&amp;backend={}&amp;definition={}&amp;status=FAILED&amp;roots=1&amp;signature={}">{}</a></td>
  <td data-label="{}">{}</td>
  <td data-label="{}">{} / {}</td>
  <td data-label="{}">{}{}</td>
</tr>"""  # noqa: E501 - a row of the table as the page shows it


def inbox_rows(groups: list[dict], query: str) -> SafeString:
    """Each group of failures as a row of the inbox, its cells labelled for the phone's
    cards; `query` is the inbox's filters, which each group's count link keeps."""
    labels = (
        _("Definition"),
        _("Backend"),
        _("Error"),
        _("Failures"),
        _("In a row"),
        _("First / last"),
        _("Failing step"),
    )
    runs, clock = reverse("runs"), Clock()
    return markup_rows(ROW, (row(group, labels, runs, query, clock) for group in groups))


def row(group: dict, labels: tuple, runs: str, query: str, clock: Clock) -> tuple:
    backend, latest, child = group["backend"], group["latest"], group["child"]
    definition = urlencode(group["definition_id"])
    failing = (
        markup('<a class="failing" href="{}"><bdi>{}</bdi></a>', run_url(child.pk), child.name)
        if child
        else markup('<a href="{}#failing"><bdi>{}</bdi></a>', run_url(latest.pk), latest.name)
    )
    offers = group["offers"] and markup(
        " {}", render_to_string("dashboard/_offers.html", {"offers": group["offers"]})
    )
    return (
        *(labels[0], definition_url(backend.pk), definition, group["name"]),
        alert_state(group["alert"], clock),
        *(labels[1], backend.name),
        *(labels[2], error(group)),
        *(labels[3], runs, query, backend.pk, definition, urlencode(group["signature"])),
        group["count"],
        *(labels[4], group["streak"]),
        *(labels[5], clock.when(group["first"]), clock.when(group["last"])),
        *(labels[6], failing, offers or ""),
    )


def alert_state(alert, clock: Clock) -> SafeString | str:
    """The group's firing alert, and who acknowledged it."""
    if not alert:
        return ""
    if alert.acknowledged_at:
        person = alert.acknowledged_by.get_username() if alert.acknowledged_by else ""
        # a translation, trusted as {% blocktranslate %} trusts it; the name is escaped
        said = mark_safe(_("acknowledged by %(who)s") % {"who": bdi(person or _("someone"))})  # noqa: S308
        state = markup("<small>{} {}</small>", said, clock.when(alert.acknowledged_at, short=True))
    else:
        state = markup('<span class="badge FAILED">{}</span>', _("alert firing"))
    return markup(
        ' <a class="alert-state" href="{}">{}</a>', reverse("alert_detail", args=[alert.pk]), state
    )


def error(group: dict) -> SafeString:
    """The group's error signature and kind, or the vendor's status when it gave no error."""
    if group["signature"]:
        kind = markup("<strong>{}</strong> ", group["kind"]) if group["kind"] else ""
        return markup("{}<code><bdi>{}</bdi></code>", kind, group["signature"])
    return markup(
        "{} <small>({} <bdi>{}</bdi>)</small>",
        _("no error message"),
        _("vendor status"),
        group["latest"].vendor_status,
    )

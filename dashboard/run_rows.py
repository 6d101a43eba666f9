"""The runs list's rows, built in Python: the list is the page people keep open and refresh
every few seconds, and the template engine spent about 20 of its 35 ms resolving 50 rows of
some 40 lookups each. The markup is the template's as it was, one row at a time."""

from dataclasses import dataclass

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dashboard.markup import markup, markup_rows
from dashboard.templatetags.runboard import Clock, badge, run_url, span
from instances.models import Kind
from instances.status import Status

ROW = """<tr>
  <td data-label="{}">{}{}</td>
  <td data-label="{}" class="vendor"><bdi>{}</bdi></td>
  <td data-label="{}"><a id="run-link-{}" href="{}{}"><bdi>{}</bdi></a>{} <small class="id"><bdi>{}</bdi></small></td>
  <td data-label="{}">{}</td>
  <td data-label="{}"><bdi>{}</bdi></td>
  <td data-label="{}"><bdi>{}</bdi></td>
  <td data-label="{}">{}</td>
  <td data-label="{}">{}</td>
  <td data-label="{}">{}</td>
  <td data-label="{}">{}</td>
</tr>
"""  # noqa: E501 - a row of the table as the page shows it


def run_rows(rows) -> SafeString:
    """Each run as a row of the runs table, its cells labelled for the phone's cards."""
    labels = (
        _("Status"),
        _("Vendor status"),
        _("Name"),
        _("Kind"),
        _("Backend"),
        _("Owner"),
        _("Started"),
        _("Finished"),
        _("Duration"),
        _("Attempts"),
    )
    gone = markup(
        ' <span class="badge gone" title="{}">⌀ {}</span>',
        _("The vendor no longer knows this run: its last known state"),
        _("gone"),
    )
    words = Words(
        labels=labels,
        gone=gone,
        step_of=pgettext("a step of a run", "in"),
        kinds={kind: str(label) for kind, label in Kind.choices},
        clock=Clock(),
    )
    return markup_rows(ROW, (row(run, words) for run in rows))


@dataclass(frozen=True)
class Words:
    """What every row of a page says alike, translated once a page."""

    labels: tuple[str, ...]
    gone: SafeString
    step_of: str
    kinds: dict[str, str]
    clock: Clock


def row(run, words: Words) -> tuple:
    """A run's cells."""
    labels, when = words.labels, words.clock.when
    zone = run.backend.timezone
    parent = run.parent_id and markup(
        " <small>{} <bdi>{}</bdi></small>", words.step_of, run.parent_name
    )
    return (
        *(labels[0], badge(run.status), words.gone if run.gone_at else ""),
        *(labels[1], run.vendor_status),
        labels[2],
        run.pk,
        run_url(run.pk),
        "#failing" if run.status == Status.FAILED else "",
        run.name,
        parent or "",
        run.external_id,
        *(labels[3], words.kinds.get(run.kind, run.kind)),
        *(labels[4], run.backend.name),
        *(labels[5], run.owner),
        *(labels[6], when(run.started_at, zone, short=True)),
        *(labels[7], when(run.finished_at, zone, short=True)),
        *(labels[8], span(run.duration)),
        *(labels[9], run.attempts or ""),
    )

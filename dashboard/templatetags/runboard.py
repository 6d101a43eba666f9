from datetime import UTC, timedelta
from functools import cache

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from dashboard.markup import markup
from dashboard.words import EVENTS, FLAGS, WINDOWS
from instances import zones
from instances.status import Status

register = template.Library()


@register.filter
def span(duration: timedelta | float | None) -> str:
    """A duration (or seconds) as people say it: 2 d 3 h, 2 h 10 min, 12 min, 45 s (2 天 3 小时,
    …, 45 秒)."""
    if duration is None:
        return "—"
    if isinstance(duration, int | float):
        duration = timedelta(seconds=duration)
    seconds = int(duration.total_seconds())
    days, hours, minutes = seconds // 86400, seconds // 3600 % 24, seconds // 60 % 60
    if days:
        return _("{days} d {hours} h").format(days=days, hours=hours)
    if hours:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    if minutes:
        return _("{minutes} min").format(minutes=minutes)
    return _("{seconds} s").format(seconds=seconds)


@register.filter
def clock(moment) -> str:
    """A moment's time of day in the reader's zone, as |date:"H:i:s" gives it: a 2,000-step
    run's page shows hundreds, and Django's formatter reads its format letter by letter."""
    return timezone.localtime(moment).strftime("%H:%M:%S") if moment else ""


@register.simple_tag
def when(moment, vendor_zone: str = "", short: bool = False):
    """A time in the reader's zone, zone shown; UTC and the vendor's zone on hover. `short`,
    for table rows under a heading that names the zone: the time alone today, else the day
    and the minute."""
    return Clock().when(moment, vendor_zone, short)


class Clock:
    """`when` for the many times of one page: the reader's zone, day and language's formats
    are read once (a list of 50 runs shows 100 times)."""

    def __init__(self) -> None:
        language = get_language()
        self.zone = timezone.get_current_timezone()
        self.zone_name = timezone.get_current_timezone_name()
        self.today = timezone.localdate()
        self.full = strftime_of("DATETIME_FORMAT", language)
        self.time = strftime_of("TIME_FORMAT", language)
        self.day = strftime_of("SHORT_DATETIME_FORMAT", language)

    def when(self, moment, vendor_zone: str = "", short: bool = False):
        if moment is None:
            return "—"
        local = moment.astimezone(self.zone)
        hover = f"{moment.astimezone(UTC).strftime(self.full)} UTC"
        if vendor_zone and (zone := zones.zone(vendor_zone)):
            hover += f" · {moment.astimezone(zone).strftime(self.full)} {vendor_zone}"
        if short:
            shown = local.strftime(self.time if local.date() == self.today else self.day)
            hover = f"{local.strftime(self.full)} {self.zone_name} · {hover}"
        else:
            shown = f"{local.strftime(self.full)} {self.zone_name}"
        return markup('<time datetime="{}" title="{}">{}</time>', moment.isoformat(), hover, shown)


@cache
def strftime_of(name: str, language: str) -> str:
    """The language's Django date format `name` as a strftime pattern: a page shows hundreds
    of times, and Django's formatter reads its format letter by letter each time."""
    return "".join(STRFTIME.get(letter, letter) for letter in get_format(name, language))


# Django's format letters dashboard/formats uses → strftime's (%-m, %-d: glibc's, no zero)
STRFTIME = {"Y": "%Y", "m": "%m", "n": "%-m", "d": "%d", "j": "%-d"}
STRFTIME |= {"H": "%H", "i": "%M", "s": "%S"}


@register.simple_tag(takes_context=True)
def sort_link(context, key: str, label: str):
    """A column header that sorts by `key`, and the other way round when already sorted so."""
    request = context["request"]
    current = context["filter"].sort
    query = request.GET.copy()
    query.pop("after", None)
    query["sort"] = f"-{key}" if current == key else key
    arrow = {key: " ▲", f"-{key}": " ▼"}.get(current, "")
    return format_html('<a href="?{}">{}{}</a>', query.urlencode(), label, arrow)


@register.simple_tag(takes_context=True)
def page_after(context, cursor: str) -> str:
    """The query of the page after `cursor`: the same filters, one `after`, not one a page."""
    query = context["request"].GET.copy()
    query["after"] = cursor
    return query.urlencode()


@register.inclusion_tag("dashboard/_choices.html")
def choices(name: str, label: str, options, chosen) -> dict:
    """A labelled dropdown of checkboxes, one filter (status, backend, kind); its summary names
    what is chosen. Options: statuses, backends, or (value, text) pairs."""
    picked = {str(value) for value in chosen}
    pairs = [option(item) for item in options]
    names = [text for value, text in pairs if value in picked]
    return {
        "name": name,
        "label": label,
        "summary": ", ".join(names) or _("any"),
        "options": [(value, text, value in picked) for value, text in pairs],
    }


def option(item) -> tuple[str, str]:
    if isinstance(item, Status):
        return item.value, str(item.label)
    if isinstance(item, tuple | list):
        return str(item[0]), str(item[1])
    return str(item.pk), item.name  # a backend


@register.filter
def badge(status: str) -> str:
    """A status as a badge: icon, name and colour (never colour alone); a filter rather than
    an include, as a 2,000-step run shows hundreds."""
    shown = badges(get_language())
    return shown.get(status, shown[Status.UNKNOWN.value])


@cache
def badges(language: str) -> dict[str, str]:
    """Every status's badge in one language: built once, as pages show hundreds."""
    return {
        s.value: format_html(
            '<span class="badge {}" title="{}">{} {}</span>', s.value, s.label, s.icon, s.label
        )
        for s in Status
    }


# an expected run's state in a status's colours (with its name, never colour alone)
LEDGER_STYLES = {
    "on_time": Status.SUCCEEDED,
    "late": Status.PENDING,
    "running": Status.RUNNING,
    "running_late": Status.PENDING,
    "failed": Status.FAILED,
    "missed": Status.FAILED,
    "not_expected": Status.SKIPPED,
}


@register.filter
def ledger_style(state: str) -> str:
    return LEDGER_STYLES.get(state, "none")


@register.filter
def status_name(status: str) -> str:
    """A status code (FAILED) as the reader's language names it."""
    return str(Status(status).label) if status in Status.values else status


@register.filter
def flag_name(flag: str) -> str:
    """One of a run's flags (manual, forced, …) in the reader's words; an unknown one as it
    came, isolated as vendor text."""
    return str(FLAGS[flag]) if flag in FLAGS else bdi(flag)


@register.filter
def window_name(window: str) -> str:
    """A time window's key (24h, 7d, custom) as the reader's language says it."""
    return str(WINDOWS.get(window, window))


@register.filter
def event_name(event: str) -> str:
    """What a message told (fired, resolved, reminder 2, digest) in the reader's words."""
    name, _space, number = event.partition(" ")
    return str(EVENTS.get(name, name)).format(number=number)


@register.simple_tag
def grid_cells(cells):
    """One step's cells across runs, built in Python (10,000 cells through the template loop
    cost a third of a second) and small (a page of them must stay light): the status as a
    coloured icon named on hover; a step that failed links to its own page. Every value is
    ours (an id, a status from the database's choices), so nothing here needs escaping."""
    html = []
    for cell in cells:
        if cell is None:
            html.append('<td class="sq"></td>')
            continue
        pk, status = cell
        opening, icon = grid_cell_openings(get_language())[status]
        if status in LINKED:
            icon = f'<a href="{run_url(pk)}">{icon}</a>'
        html.append(f"{opening}{icon}</td>")
    return mark_safe("".join(html))  # noqa: S308


@cache
def grid_cell_openings(language: str) -> dict[str, tuple[str, str]]:
    return {s.value: (f'<td class="sq {s.value}" title="{s.label}">', s.icon) for s in Status}


LINKED = {Status.FAILED.value, Status.CANCELED.value}


@cache
def link_prefix(view: str) -> str:
    """A view's URL before its one number, reversed once: pages link hundreds of runs and
    definitions, and resolving the pattern each time adds up."""
    return reverse(view, args=[0]).removesuffix("0/")


@register.filter
def run_url(pk: int) -> str:
    """A run's page, as {% url 'run_detail' pk %} gives it: a 2,000-step run's page links
    every step three times."""
    return f"{link_prefix('run_detail')}{int(pk)}/"


@register.filter
def definition_url(backend_id: int) -> str:
    """A backend's definition page, as {% url 'definition' backend_id %} gives it."""
    return f"{link_prefix('definition')}{int(backend_id)}/"


@register.filter
def bdi(value) -> str:
    """Vendor text isolated from the text around it, escaped: a right-to-left override
    (U+202E) in a name must not reverse what the page says next to it."""
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def error_class(error: str) -> str:
    """A delivery error as team members who are not staff see it: its kind only ("HTTP 503",
    "ConnectTimeout", "Refused"), never what the far end said."""
    return error.split(":", 1)[0][:60] if error else ""

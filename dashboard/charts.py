"""Server-rendered SVG charts (pygal), served as images: no script, status colours matching
the CSS, each series labelled in the legend so colour is never the only cue."""

import re

import pygal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pygal.style import Style

from instances.models import Status
from instances.status import COLOURS

# With the "system" theme the server cannot know the reader's colours, so the image carries
# the dark ones for a reader whose system is dark (an SVG image follows that setting).
FOLLOW_SYSTEM = (
    "<style>@media (prefers-color-scheme: dark) { text { fill: #e6edf3 !important; }"
    " .guides .line, .axis .line { stroke: #30363d !important; } }</style></svg>"
)


def finished(svg: str, theme: str) -> str:
    """pygal's output without its inline script (an image never runs it, and a chart opened on
    its own would have the CSP refuse it), following the system's theme when asked to."""
    svg = SCRIPT.sub("", svg)
    return svg.removesuffix("</svg>") + FOLLOW_SYSTEM if theme == "system" else svg


SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


def style_for(colours: tuple[str, ...], dark: bool) -> Style:
    return Style(
        background="transparent",
        plot_background="transparent",
        foreground="#e6edf3" if dark else "#1b1f24",
        foreground_strong="#e6edf3" if dark else "#1b1f24",
        foreground_subtle="#30363d" if dark else "#d8dee4",
        colors=colours,
        font_family="system-ui, sans-serif",
    )


def labels(chart, buckets, daily: bool) -> None:
    """Bucket starts (UTC) labelled in the reader's zone (%H:%M: some zones are half an hour
    off UTC)."""
    chart.x_labels = [
        timezone.localtime(b).strftime("%m-%d" if daily else "%H:%M") for b in buckets
    ]
    chart.x_labels_major = chart.x_labels[:: max(1, len(buckets) // 12)]


def stacked_runs(buckets, per_status: dict[str, list[int]], daily: bool, theme: str) -> str:
    shown = [s for s in Status if any(per_status[s.value])]
    style = style_for(tuple(COLOURS[s] for s in shown), theme == "dark")
    chart = pygal.StackedBar(
        style=style,
        js=[],
        height=280,
        width=900,
        show_legend=True,
        legend_at_bottom=True,
        x_label_rotation=0,
        show_minor_x_labels=False,
        truncate_legend=-1,
        truncate_label=-1,
        print_values=False,
    )
    labels(chart, buckets, daily)
    for status in shown:
        chart.add(f"{status.icon} {status.label}", per_status[status.value])
    return finished(chart.render(is_unicode=True), theme)


def duration_trend(buckets, p50: list, p95: list, daily: bool, theme: str) -> str:
    """p50 and p95 duration in minutes; dashes tell the lines apart without colour."""
    style = style_for(("#0969da", "#cf222e"), theme == "dark")
    chart = pygal.Line(
        style=style,
        js=[],
        height=200,
        width=900,
        show_legend=True,
        legend_at_bottom=True,
        show_minor_x_labels=False,
        allow_interruptions=True,
        y_title=str(_("minutes")),
        truncate_legend=-1,
    )
    labels(chart, buckets, daily)
    minutes = [[None if v is None else round(v / 60, 1) for v in line] for line in (p50, p95)]
    chart.add(str(_("p50 (solid)")), minutes[0])
    chart.add(str(_("p95 (dashed)")), minutes[1], stroke_style={"dasharray": "6, 4"})
    return finished(chart.render(is_unicode=True), theme)

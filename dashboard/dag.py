"""A run's children as a DAG: graphviz DOT built from stored edges, rendered to SVG by `dot`,
cached by the graph's content. Vendor strings only ever reach DOT through `dot_text`; links
are built from our own ids. A graph that cannot be drawn, or a cache that is down, never
takes the run page with it."""

import hashlib
import logging
from collections import defaultdict
from collections.abc import Set as AbstractSet

import graphviz
from django.core.cache import cache
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from dashboard.steps import Step
from dashboard.templatetags.runboard import run_url
from instances.models import Instance, Status
from instances.status import COLOURS, tint

SHAPES = {Status.RUNNING: "ellipse", Status.FAILED: "octagon", Status.UNKNOWN: "diamond"}
# a node's fill: its status colour lightened, so its dark label reads and the culprit's red
# outline shows; the shape tells the status too, never colour alone
FILLS = {status: tint(colour, 0.55) for status, colour in COLOURS.items()}


log = logging.getLogger(__name__)


def dot_text(*lines: str) -> graphviz.quoting.NoHtml:
    """Vendor text as a plain DOT label, one line each: never read as an HTML-like label
    (`<…>`), backslashes doubled so `\\l \\N \\G \\n` stay literal; graphviz's quoting
    escapes the quotes."""
    return graphviz.nohtml("\\n".join(line.replace("\\", "\\\\") for line in lines))


def label(run: Step) -> graphviz.quoting.NoHtml:
    lines = [run.name[:60]]
    if run.duration:
        lines.append(gettext("{seconds} s").format(seconds=int(run.duration.total_seconds())))
    return dot_text(*lines)


FOCUS_ABOVE = 300  # nodes; beyond this graphviz takes seconds and nobody can read the graph


def focus(children: list[Step], edges: list[tuple[int, int]], marked: set[int]) -> list[Step]:
    """The marked (failing) and running steps and their direct neighbours: where on-call
    looks first."""
    hot = marked | {c.pk for c in children if c.status == Status.RUNNING}
    near = hot | {d for u, d in edges if u in hot} | {u for u, d in edges if d in hot}
    return [c for c in children if c.pk in near]


def collapsed(shown: set[int], edges: list[tuple[int, int]]) -> list[tuple[str, int, int, bool]]:
    """What focus mode leaves out, next to each drawn step: its hidden upstream (or downstream)
    steps collapsed into one count, a single chain followed as far as it goes. Each is
    (direction, drawn step, steps counted, whether more lie beyond a fork)."""
    near: dict[str, dict[int, list[int]]] = {"up": defaultdict(list), "down": defaultdict(list)}
    for up, down in edges:
        near["down"][up].append(down)
        near["up"][down].append(up)
    stubs = []
    for pk in sorted(shown):
        for direction, links in near.items():
            hidden = [n for n in links[pk] if n not in shown]
            if not hidden:
                continue
            seen = set(hidden)
            step = hidden[0]
            while len(hidden) == 1 and len(links[step]) == 1 and links[step][0] not in shown | seen:
                step = links[step][0]
                seen.add(step)
            beyond = any(n not in shown and n not in seen for h in seen for n in links[h])
            stubs.append((direction, pk, len(seen), beyond))
    return stubs


LAYOUTS = {"LR": _("left to right"), "TB": _("top to bottom")}  # graphviz rankdir → its name


def dot_source(
    children: list[Step],
    edges: list[tuple[int, int]],
    marked: set[int],
    victims: AbstractSet[int] = frozenset(),
    layout: str = "LR",
) -> str:
    """`marked`: the steps that failed the run, outlined in red; `victims`: steps that failed
    or were skipped because of them, outlined dashed and said so in their tooltip."""
    focused = len(children) > FOCUS_ABOVE
    if focused:
        children = focus(children, edges, marked)
    shown = {c.pk for c in children}
    stubs = collapsed(shown, edges) if focused else []
    edges = [(u, d) for u, d in edges if u in shown and d in shown]
    graph = graphviz.Digraph(  # unnamed: a name would be the drawing's <title>, in English
        graph_attr={"rankdir": layout, "bgcolor": "transparent"},
        node_attr={"style": "filled", "fontname": "Helvetica", "fontsize": "10"},
    )
    for child in sorted(children, key=lambda c: c.pk):
        status = Status(child.status)
        attrs = {
            "fillcolor": FILLS[status],
            "shape": SHAPES.get(status, "box"),
            "id": f"run{child.pk}",
            "URL": run_url(child.pk),
            "target": "_top",
            "tooltip": str(status.label),
        }
        if child.pk in marked:
            attrs |= {"penwidth": "3", "color": "#cf222e"}
        elif child.pk in victims:
            tooltip = gettext("{status} (upstream failed)").format(status=status.label)
            attrs |= {"style": "filled,dashed", "tooltip": tooltip}
        graph.node(str(child.pk), label(child), **attrs)
    for upstream, downstream in edges:
        graph.edge(str(upstream), str(downstream))
    for direction, pk, count, beyond in stubs:
        name = f"{direction}{pk}"
        words = ngettext("{count} more step", "{count} more steps", 2 if beyond else count)
        words = words.format(count=f"{count}{'+' if beyond else ''}")
        hint = (
            gettext("{steps} upstream, not drawn: the table lists them all")
            if direction == "up"
            else gettext("{steps} downstream, not drawn: the table lists them all")
        ).format(steps=words)
        graph.node(
            name,
            words,
            shape="box",
            style="dashed,rounded",
            fontsize="9",
            color="#8c959f",
            fontcolor="#57606a",
            tooltip=hint,
            **{"class": "stub"},
        )
        graph.edge(*((name, str(pk)) if direction == "up" else (str(pk), name)), style="dashed")
    return graph.source


def svg(
    parent: Instance,
    children: list[Step],
    edges: list[tuple[int, int]],
    marked: set[int],
    victims: AbstractSet[int] = frozenset(),
    layout: str = "LR",
) -> str | None:
    """The SVG, or None when `dot` could not draw it (the page then shows the steps only)."""
    source = dot_source(children, edges, marked, victims, layout)
    key = "dag:" + hashlib.sha256(source.encode()).hexdigest()
    rendered = cached(key)
    if rendered is None:
        try:
            rendered = graphviz.Source(source).pipe(format="svg", encoding="utf-8")
        except (graphviz.CalledProcessError, graphviz.ExecutableNotFound) as exc:
            log.error("DAG of run %s could not be drawn: %s", parent.pk, exc)
            return None
        rendered = rendered[rendered.index("<svg") :]  # drop the XML prolog and doctype
        remember(key, rendered)
    return rendered


# The cache only saves `dot` runs: when it is down, draw again rather than fail (/healthz
# is where the outage shows).
def cached(key: str) -> str | None:
    try:
        return cache.get(key)
    except Exception as exc:  # whatever the cache backend raises: redis, file system
        log.warning("DAG cache unavailable: %s", exc)
        return None


def remember(key: str, rendered: str) -> None:
    try:
        cache.set(key, rendered, 24 * 3600)
    except Exception as exc:
        log.warning("DAG cache unavailable: %s", exc)

"""A run's children as a DAG: graphviz DOT built from stored edges, rendered to SVG by `dot`,
cached by the graph's content. Vendor strings only ever reach DOT through `dot_text`; links
are built from our own ids. A graph that cannot be drawn, or a cache that is down, never
takes the run page with it."""

import hashlib
import logging

import graphviz
from django.core.cache import cache
from django.urls import reverse

from instances.models import Instance, Status

STYLE = {  # fill colour and shape per status: never colour alone
    Status.PENDING: ("#d0d7de", "box"), Status.RUNNING: ("#54aeff", "ellipse"),
    Status.SUCCEEDED: ("#4ac26b", "box"), Status.FAILED: ("#ff8182", "octagon"),
    Status.CANCELED: ("#d4a72c", "box"), Status.SKIPPED: ("#c297ff", "box"),
    Status.UNKNOWN: ("#afb8c1", "diamond"),
}  # fmt: skip


log = logging.getLogger(__name__)


def dot_text(*lines: str) -> graphviz.quoting.NoHtml:
    """Vendor text as a plain DOT label, one line each: never read as an HTML-like label
    (`<…>`), backslashes doubled so `\\l \\N \\G \\n` stay literal; graphviz's quoting
    escapes the quotes."""
    return graphviz.nohtml("\\n".join(line.replace("\\", "\\\\") for line in lines))


def label(run: Instance) -> graphviz.quoting.NoHtml:
    lines = [run.name[:60]]
    if run.duration:
        lines.append(f"{int(run.duration.total_seconds())} s")
    return dot_text(*lines)


FOCUS_ABOVE = 300  # nodes; beyond this graphviz takes seconds and nobody can read the graph


def focus(children: list[Instance], edges: list[tuple[int, int]], marked: set[int]
          ) -> list[Instance]:  # fmt: skip
    """The marked (failing) and running steps and their direct neighbours: where on-call
    looks first."""
    hot = marked | {c.pk for c in children if c.status == Status.RUNNING}
    near = hot | {d for u, d in edges if u in hot} | {u for u, d in edges if d in hot}
    return [c for c in children if c.pk in near]


LAYOUTS = {"LR": "left to right", "TB": "top to bottom"}  # graphviz rankdir → its name


def dot_source(children: list[Instance], edges: list[tuple[int, int]], marked: set[int],
               victims: frozenset[int] = frozenset(), layout: str = "LR") -> str:  # fmt: skip
    """`marked`: the steps that failed the run, outlined in red; `victims`: steps that failed
    or were skipped because of them, outlined dashed and said so in their tooltip."""
    if len(children) > FOCUS_ABOVE:
        children = focus(children, edges, marked)
    shown = {c.pk for c in children}
    edges = [(u, d) for u, d in edges if u in shown and d in shown]
    graph = graphviz.Digraph("run", graph_attr={"rankdir": layout, "bgcolor": "transparent"},
                             node_attr={"style": "filled", "fontname": "Helvetica",
                                        "fontsize": "10"})  # fmt: skip
    for child in sorted(children, key=lambda c: c.pk):
        fill, shape = STYLE[Status(child.status)]
        attrs = {"fillcolor": fill, "shape": shape, "id": f"run{child.pk}",
                 "URL": reverse("run_detail", args=[child.pk]), "target": "_top",
                 "tooltip": f"{child.status}"}  # fmt: skip
        if child.pk in marked:
            attrs |= {"penwidth": "3", "color": "#cf222e"}
        elif child.pk in victims:
            attrs |= {"style": "filled,dashed", "tooltip": f"{child.status} (upstream failed)"}
        graph.node(str(child.pk), label(child), **attrs)
    for upstream, downstream in edges:
        graph.edge(str(upstream), str(downstream))
    return graph.source


def svg(parent: Instance, children: list[Instance], edges: list[tuple[int, int]],
        marked: set[int], victims: frozenset[int] = frozenset(), layout: str = "LR"
        ) -> str | None:  # fmt: skip
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

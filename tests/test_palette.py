"""One status palette: the stylesheet's status colours are the ones the SVG (charts, DAG)
draws with, in the light theme and in the dark one (the system's or chosen)."""

import re

from django.conf import settings

from instances.status import COLOURS, DARK_COLOURS, Status

CSS = (settings.BASE_DIR / "static" / "css" / "runboard.css").read_text()


def declared(block: str) -> dict[str, str]:
    return dict(
        re.findall(
            r"--(pending|running|succeeded|failed|canceled|skipped|unknown):"
            r"\s*(#[0-9a-f]{6})",
            block,
        )
    )


def test_the_stylesheets_light_colours_are_the_palette():
    light = CSS[CSS.index(":root {") : CSS.index("}", CSS.index(":root {"))]
    assert declared(light) == {s.value.lower(): COLOURS[s] for s in Status}


def test_both_dark_blocks_are_the_dark_palette():
    for selector in (":root:not([data-theme=light]) {", ":root[data-theme=dark] {"):
        block = CSS[CSS.index(selector) : CSS.index("}", CSS.index(selector))]
        assert declared(block) == {s.value.lower(): DARK_COLOURS[s] for s in Status}

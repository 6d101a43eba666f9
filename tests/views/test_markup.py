"""The long lists' markup is escaped exactly as Django's format_html escapes it."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from dashboard.markup import markup, markup_rows

HOSTILE = (
    "<script>alert('x')</script>",
    'a "quoted" & ampersanded name',
    mark_safe("<b>kept</b>"),  # markup a caller already made safe
    gettext_lazy("Status"),
    42,
    None,
    "同步维表 <7>",
)
TEMPLATE = "<td title='{}'>{}</td>"


def test_each_value_is_escaped_as_format_html_escapes_it():
    for value in HOSTILE:
        assert markup(TEMPLATE, value, value) == format_html(TEMPLATE, value, value)
    assert "<script>" not in markup(TEMPLATE, HOSTILE[0], "")


def test_rows_are_joined_as_format_html_join_joins_them():
    rows = [(value, value) for value in HOSTILE]
    assert markup_rows(TEMPLATE, rows) == format_html_join("", TEMPLATE, rows)
    assert hasattr(markup_rows(TEMPLATE, rows), "__html__")  # safe: not escaped again

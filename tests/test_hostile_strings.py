"""Hostile vendor strings through every place one is shown. Each is polled in through sync, as a
vendor would send it, then read back from every page, export and API: it must come out exactly
escaped for where it lands, never as markup, a DOT statement, a link or a formula."""

import csv
import io
import re
from datetime import timedelta
from urllib.parse import quote
from xml.etree import ElementTree

import pytest
from django.utils import timezone
from django.utils.html import escape
from prometheus_client.parser import text_string_to_metric_families

from instances import sync
from instances.connectors.base import LogChunk, RunRecord
from instances.errors import signature
from instances.models import RAW_PAYLOAD_LIMIT, Backend, Instance, storable
from instances.status import Kind, Status
from tests.factories import GroupFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = {
    "html": '<script>alert("x")</script>',
    "attribute": '" onmouseover="alert(1)" x=\'',
    "javascript_url": "javascript:alert(document.cookie)",
    "dot_breakout": '<x>];e[href="//evil.example/p" label="log"];9[label=<y>',
    "html_like_label": "<<b>bold</b>>",
    "backslash_end": "C:\\tmp\\",
    "dot_escapes": "\\l\\N\\G\\n\\E\\T\\H",
    "bidi": "invoice\u202efdp.exe",
    "zero_width": "nightly\u200b\u200c\u200d\ufeffload",
    "huge": "x" * 100_000,
    "nul": "step\x00one",
    "formula": '=HYPERLINK("http://evil.example","click")',
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(1+1)",
}
FORMULA = ("=", "+", "-", "@")
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"


def kept(value: str, limit: int | None = None) -> str:
    """What the database holds of a vendor string: unstorable characters replaced, cut."""
    return storable(value)[:limit]


def shown(value: str) -> str:
    """A vendor string in page text: escaped and isolated from its neighbours."""
    return f"<bdi>{escape(value)}</bdi>"


def hostile_run(fake, text: str) -> tuple[Backend, Instance, Instance, Instance]:
    """A failed flow whose every vendor string is `text`: step a ran (it has a duration),
    step b failed before one was known, a → b."""
    team = GroupFactory()
    backend = Backend.objects.create(
        name=kept(text, 100), kind="fake", team=team, base_url="http://vendor.invalid"
    )
    started = timezone.now() - timedelta(hours=1)
    common = {"vendor_status": text, "owner": text, "started_at": started, "error_message": text}
    flow = RunRecord(
        external_id="flow",
        kind=Kind.FLOW,
        name=text,
        status=Status.FAILED,
        definition_id=text,
        definition_name=text,
        raw={"name": text},
        **common,
    )
    step = {"kind": Kind.TASK, "name": text, "parent_id": "flow", **common}
    ran = RunRecord(
        external_id="a",
        status=Status.SUCCEEDED,
        definition_id="step-a",
        duration=timedelta(seconds=5),
        finished_at=started + timedelta(seconds=5),
        log_locator="a",
        **step,
    )
    failed = RunRecord(
        external_id="b", status=Status.FAILED, definition_id="step-b", log_locator="b", **step
    )
    steps = [ran, failed]
    fake.vendor = {"flow": (flow, steps, [("a", "b")])}
    poll = sync.poll_backend(backend.pk)
    assert poll.outcome == "ok", poll.error
    runs = {r.external_id: r for r in Instance.objects.filter(backend=backend)}
    return backend, runs["flow"], runs["a"], runs["b"]


@pytest.fixture(params=list(HOSTILE), ids=list(HOSTILE))
def hostile(request, fake, client):
    text = HOSTILE[request.param]
    backend, flow, step_a, step_b = hostile_run(fake, text)
    client.force_login(UserFactory(teams=[backend.team]))  # a team member, not a superuser
    return text, backend, flow, step_a, step_b


def never_raw(body: str, *values: str) -> None:
    """Where escaping changes a value, the unescaped form must not appear at all."""
    for value in values:
        if escape(value) != value:
            assert value not in body


def test_run_list(client, hostile):
    text, backend, *_ = hostile
    body = client.get("/runs/?window=all").content.decode()
    for value in (kept(text, 500), kept(text, 200), kept(text, 100)):  # name, owner, status
        assert shown(value) in body
    assert f'<td data-label="Backend">{shown(backend.name)}</td>' in body
    never_raw(body, kept(text, 500))


def test_run_page_header_steps_and_timeline(client, hostile):
    text, backend, flow, step_a, step_b = hostile
    body = client.get(f"/runs/{flow.pk}/").content.decode()
    name = kept(text, 500)
    assert re.search(rf"</span>\s+{re.escape(shown(name))}</h1>", body)
    assert f"<dt>Owner</dt><dd>{shown(kept(text, 200))}</dd>" in body
    assert f"<dt>Backend</dt><dd>{shown(backend.name)} (" in body
    assert f'id="failing">{shown(kept(text))}</dd>' not in body  # the failing step is named
    assert f'Failing step: <a href="/runs/{step_b.pk}/">{shown(name)}</a>' in body
    for step in (step_a, step_b):
        link = f'<a id="step-link-{step.pk}" href="/runs/{step.pk}/">'
        assert f"{link}{shown(name)}</a></td>" in body  # steps table
    assert f"<small>{shown(kept(text, 100))}</small>" in body  # status timeline
    assert f"<title>{escape(name)} — Succeeded, " in body  # Gantt
    never_raw(body, name)


def test_dag_labels_are_the_names_and_nothing_else(client, hostile):
    text, _, flow, step_a, step_b = hostile
    body = client.get(f"/runs/{flow.pk}/").content.decode()
    dag = re.search(r"data-dag-view>(<svg.*?</svg>)\s*</div>", body, re.S).group(1)
    svg = ElementTree.fromstring(dag)  # noqa: S314 - our own page's output
    nodes = svg.findall(f".//{SVG}g[@class='node']")
    assert len(nodes) == 2 and len(svg.findall(f".//{SVG}g[@class='edge']")) == 1
    labels = sorted(tuple(t.text or "" for t in node.iter(f"{SVG}text")) for node in nodes)
    label = kept(text)[:60]
    assert labels == sorted([(label, "5 s"), (label,)])  # literally: no \N, \l or HTML label
    links = {a.get(XLINK) for a in svg.iter(f"{SVG}a")}
    assert links == {f"/runs/{step_a.pk}/", f"/runs/{step_b.pk}/"}


def test_log(client, hostile, fake, monkeypatch):
    text, _, _, _, step_b = hostile
    monkeypatch.setattr(fake, "fetch_log", lambda *args: LogChunk(text=text, truncated=False))
    body = client.get(f"/runs/{step_b.pk}/log/").content.decode()
    for number, line in enumerate(text.splitlines(), 1):
        assert re.search(
            rf'<span id="L{number}"( class="err")?>{re.escape(escape(line))}</span>', body
        )
    never_raw(body, text)


def test_failure_inbox(client, hostile):
    text, backend, _, _, step_b = hostile
    body = client.get("/failures/").content.decode()
    assert (
        f'{shown(kept(text, 500))}</a></td>\n  <td data-label="Backend">{shown(backend.name)}</td>'
        in body
    )
    assert f"<code>{shown(signature(kept(text)))}</code></span></td>" in body
    assert f'<a class="failing" href="/runs/{step_b.pk}/">{shown(kept(text, 500))}</a>' in body
    never_raw(body, kept(text, 500))


def test_run_history_grid(client, hostile):
    text, backend, *_ = hostile
    definition = kept(text, 200)
    page = client.get(f"/definitions/{backend.pk}/", {"id": definition})
    body = page.content.decode()
    assert f"<h1>{shown(kept(text, 500))}</h1>" in body
    assert f"<code>{shown(definition)}</code>" in body
    assert body.count(f'<th scope="row">{shown(kept(text, 500))}</th>') == 2  # a row a step
    never_raw(body, kept(text, 500))


def test_overview(client, hostile):
    text, backend, *_ = hostile
    definition = kept(text, 200)
    body = client.get("/").content.decode()
    link = f'<a href="/definitions/{backend.pk}/?id={quote(definition, safe="/")}">'
    name = f"{shown(kept(text, 500))}</a> <small><code>{shown(definition)}</code></small>"
    assert f"{link}{name}</td><td>{shown(backend.name)}</td>" in body
    never_raw(body, definition)


def test_csv_cells_are_never_formulas(client, hostile):
    text, *_ = hostile
    content = b"".join(client.get("/runs.csv?window=all").streaming_content).decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(content))
    flow = next(
        dict(zip(header, row, strict=True))
        for row in rows
        if row[header.index("kind")] == Kind.FLOW
    )
    for column, limit in (("name", 500), ("owner", 200), ("vendor_status", 100)):
        value = kept(text, limit)
        assert flow[column] == (f"'{value}" if value.startswith(FORMULA) else value)
    assert flow["id"].isdigit() and re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d.*", flow["started_at"]
    )


def test_api_returns_the_strings_as_stored(client, hostile):
    text, _, flow, *_ = hostile
    runs = client.get("/api/v1/runs?window=all&roots=1").json()["runs"]
    assert [(r["name"], r["owner"], r["error_message"]) for r in runs] == [
        (kept(text, 500), kept(text, 200), kept(text))
    ]
    raw = client.get(f"/api/v1/runs/{flow.pk}").json()["raw"]
    if len(text) < RAW_PAYLOAD_LIMIT:
        assert raw == {"name": kept(text)}
    else:  # kept as a marked head, like any oversized payload
        assert raw["_truncated"] and raw["head"].startswith('{"name":"xxx')


def test_metrics_labels(client, hostile):
    _, backend, *_ = hostile
    body = client.get("/metrics").content.decode()
    # read back by prometheus-client's parser, every label value is the name, exactly
    samples = [
        sample for family in text_string_to_metric_families(body) for sample in family.samples
    ]
    assert {s.labels["backend"] for s in samples} == {backend.name}
    assert any(
        s.name == "runboard_runs" and s.labels["status"] == "FAILED" and s.value == 1
        for s in samples
    )


def test_admin(client, hostile):
    text, backend, flow, *_ = hostile
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/instances/instance/", {"backend__id__exact": backend.pk})
    body = listing.content.decode()
    assert escape(kept(text, 500)) in body
    never_raw(body, kept(text, 500))
    change = client.get(f"/admin/instances/instance/{flow.pk}/change/").content.decode()
    assert f'value="{escape(kept(text, 500))}"' in change
    never_raw(change, kept(text, 500))

"""Alerting as code: alerts.example.toml loads after backends.example.toml, a second load
changes nothing, and a bad file is refused whole, with its line."""

import pytest
from django.core.management import CommandError, call_command

from instances.alerts.models import AlertRule, Channel
from instances.models import DataProduct
from tests.processes import ROOT
from tests.test_load_backends import DEMO_SECRETS, EXAMPLE, load

pytestmark = pytest.mark.django_db
ALERTS = ROOT / "alerts.example.toml"
FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/0d6a8e1c-2f3b-4c5d"
TARGETS = {
    "OPS_HOOK": "http://127.0.0.1:9999/hooks/runboard",
    "OPS_MAIL": "oncall@example.com",
    "OPS_FEISHU": FEISHU,
}


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    for name, value in (DEMO_SECRETS | TARGETS).items():
        monkeypatch.setenv(name, value)


def load_alerts(path, *args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("load_alerts", str(path), *args, stdout=out)
    return out.getvalue()


def test_the_example_loads_once_and_then_changes_nothing():
    load(EXAMPLE)
    first = load_alerts(ALERTS)
    assert first.count("create channel") == 3 and first.count("create rule") == 5
    assert first.count("create product") == 1
    assert Channel.objects.get(name="ops feishu").target == TARGETS["OPS_FEISHU"]
    rule = AlertRule.objects.get(name="EnOS batch failures")
    assert rule.backend.name == "EnOS batch processing"
    assert sorted(rule.channels.values_list("name", flat=True)) == [
        "ops feishu",
        "ops mail",
        "ops webhook",
    ]
    assert AlertRule.objects.get(name="missed schedules").grace_minutes == 30
    again = load_alerts(ALERTS)
    assert again.count("unchanged") == 9
    report = AlertRule.objects.get(name="sales report by 07:00").product
    assert sorted(report.parts.values_list("backend__name", "definition_id")) == [
        ("EnOS batch processing", "flow-orders-daily"),
        ("EnOS dataflow", "sales-aggregate"),
    ]


def test_a_dry_run_writes_nothing():
    load(EXAMPLE)
    assert "dry run" in load_alerts(ALERTS, "--dry-run")
    assert not Channel.objects.exists() and not AlertRule.objects.exists()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            '[[channel]]\nteam = "ops"\nname = "x"\nkind = "webhook"\ntarget = "http://a.example"\n',
            "line 1: target must be a ${ENV_VAR} reference",
        ),
        (
            '[[channel]]\nteam = "ops"\nname = "x"\nkind = "email"\ntarget = "${OPS_HOOK}"\n',
            "line 1: target: Enter a valid email address.",
        ),
        (
            '\n[[rule]]\nteam = "ops"\nname = "r"\nkind = "failed"\nchannels = ["nowhere"]\n',
            "line 2: channel 'nowhere' is not a channel of team 'ops'",
        ),
        (
            '[[rule]]\nteam = "ops"\nname = "r"\nkind = "sometimes"\n',
            "line 1: kind 'sometimes' is not one of",
        ),
        (
            '[[rule]]\nteam = "ops"\nname = "r"\nkind = "failed"\nbackend = "nope"\n',
            "backend 'nope' is not a backend of team 'ops'",
        ),
        (
            '[[rule]]\nteam = "ops"\nname = "r"\nkind = "late"\ndeadline = "6:30"\n',
            "line 1: deadline must be a time of day, like 06:30:00",
        ),
        (
            '[[rule]]\nteam = "ops"\nname = "r"\nkind = "late"\ncalendar = "mars"\n',
            "line 1: calendar 'mars' is not one we know",
        ),
    ],
)
def test_a_bad_file_is_refused_whole_with_its_line(tmp_path, text, said):
    path = tmp_path / "alerts.toml"
    path.write_text(
        '[[channel]]\nteam = "ops"\nname = "ok"\nkind = "email"\ntarget = "${OPS_MAIL}"\n\n' + text
    )
    with pytest.raises(CommandError) as refused:
        load_alerts(path)
    assert said.replace("line 1", "line 7").replace("line 2", "line 8") in str(refused.value)
    assert not Channel.objects.exists()


def test_a_deadline_rule_loads_with_its_time_zone_and_calendar(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text(
        '[[rule]]\nteam = "ops"\nname = "orders by 06:30"\nkind = "late"\n'
        'definition_id = "orders"\ndeadline = 06:30:00\ndeadline_zone = "Asia/Shanghai"\n'
        'calendar = "cn"\n'
    )
    load_alerts(path)
    rule = AlertRule.objects.get()
    assert (rule.kind, str(rule.deadline), rule.deadline_zone, rule.calendar) == (
        "late",
        "06:30:00",
        "Asia/Shanghai",
        "cn",
    )


def test_a_products_definitions_are_the_files_and_its_backends_the_teams(tmp_path):
    load(EXAMPLE)
    path = tmp_path / "alerts.toml"
    product = '[[product]]\nteam = "ops"\nname = "report"\ndefinitions = [{}]\n'
    path.write_text(product.format('{ backend = "EnOS dataflow", definition = "a" }'))
    load_alerts(path)
    path.write_text(product.format('{ backend = "EnOS dataflow", definition = "b" }'))
    assert "update product report: 1 definitions in, 1 out" in load_alerts(path)
    assert list(DataProduct.objects.get().parts.values_list("definition_id", flat=True)) == ["b"]
    path.write_text(product.format('{ backend = "OceanBase OCP", definition = "c" }'))
    with pytest.raises(CommandError, match="'OceanBase OCP' is not a backend of team 'ops'"):
        load_alerts(path)  # the dba team's
    path.write_text('[[rule]]\nteam = "ops"\nname = "r"\nkind = "late"\nproduct = "nope"\n')
    with pytest.raises(CommandError, match="'nope' is not a data product of team 'ops'"):
        load_alerts(path)

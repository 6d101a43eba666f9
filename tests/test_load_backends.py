import pytest
from django.core.management import CommandError, call_command

from instances.models import Backend
from instances.registry import CONNECTORS
from tests.processes import ROOT

pytestmark = pytest.mark.django_db

DEMO_SECRETS = {
    "ENOS_APP_KEY": "7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f",
    "ENOS_APP_SECRET": "0f9e8d7c-6b5a-4938-a7b6-c5d4e3f2a1b0",
    "HUAWEI_USER": "runboard-demo",
    "HUAWEI_PASSWORD": "runboard-demo-pw",
    "HUAWEI_AK": "RUNBOARDDEMOAK000001",
    "HUAWEI_SK": "runboardDemoSecretAccessKey0000000000000",
    "HUAWEI_DOMAIN": "runboard-domain",
    "OCP_USER": "admin",
    "OCP_PASSWORD": "runboard-demo-pw",
    "AIRFLOW_USER": "admin",
    "AIRFLOW_PASSWORD": "runboard-demo-pw",
}
EXAMPLE = ROOT / "backends.example.toml"


def line_of(text: str) -> int:
    """The example file's line that holds `text`: the line a problem there is reported on."""
    return next(n for n, line in enumerate(EXAMPLE.read_text().splitlines(), 1) if text in line)


@pytest.fixture
def secrets(monkeypatch):
    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)


def load(path, *args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("load_backends", str(path), *args, stdout=out)
    return out.getvalue()


def test_example_file_round_trips_and_is_idempotent(secrets):
    first = load(EXAMPLE)
    assert first.count("create ") == len(CONNECTORS)  # one backend per vendor API
    assert set(Backend.objects.values_list("kind", flat=True)) == set(CONNECTORS)
    ocp = Backend.objects.get(name="OceanBase OCP")
    assert ocp.credentials == {"username": "admin", "password": "runboard-demo-pw"}
    assert ocp.team.name == "dba"
    assert load(EXAMPLE).count("unchanged ") == len(CONNECTORS)


def test_dry_run_prints_the_diff_and_writes_nothing(secrets, tmp_path):
    load(EXAMPLE)
    changed = tmp_path / "b.toml"
    changed.write_text(EXAMPLE.read_text().replace("poll_interval = 60", "poll_interval = 120"))
    out = load(changed, "--dry-run")
    assert "update DataArts Data Map: poll_interval 60 → 120" in out and "dry run" in out
    assert Backend.objects.get(name="DataArts Data Map").poll_interval == 60


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (  # reported at its [[backend]]
            lambda t: t.replace('kind = "ocp"', 'kind = "oracle"'),
            f"line {line_of('name = "OceanBase OCP"') - 1}: kind 'oracle'",
        ),
        (lambda t: t.replace('"${OCP_PASSWORD}"', '"hunter2"'), "never a secret written"),
        (lambda t: t.replace('"${OCP_PASSWORD}"', '"${NOT_SET_ANYWHERE}"'), "is not set"),
        (lambda t: t.replace('team = "dba"', "team = "), f"line {line_of('team = "dba"')}"),
        (lambda t: t + '\n[[backend]]\nname = "x"\n', "missing base_url, kind"),
    ],
    ids=["unknown-kind", "literal-secret", "unset-variable", "toml-syntax", "missing-keys"],
)
def test_bad_files_are_rejected_whole_with_line_and_reason(secrets, tmp_path, mutate, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(mutate(EXAMPLE.read_text()))
    with pytest.raises(CommandError, match=message):
        load(bad)
    assert not Backend.objects.exists()  # not even the valid backends before the bad one


def test_acting_is_off_unless_asked_and_may_have_a_credential_of_its_own(
    secrets, monkeypatch, tmp_path
):
    load(EXAMPLE)
    assert Backend.objects.get(name="Apache Airflow").may_act
    assert not Backend.objects.get(name="OceanBase OCP").may_act  # read-only by default
    monkeypatch.setenv("OCP_OPS", "ops-secret")
    monkeypatch.setenv("OCP_OPS_USER", "ops")
    path = tmp_path / "ops.toml"
    path.write_text(
        '[[backend]]\nname = "ocp"\nkind = "ocp"\nbase_url = "http://ocp.example"\n'
        "may_act = true\n"
        'acting_credentials = { username = "${OCP_OPS_USER}", password = "${OCP_OPS}" }\n'
    )
    assert "create ocp" in load(path)
    ocp = Backend.objects.get(name="ocp")
    assert ocp.may_act and ocp.acting_credentials == {"username": "ops", "password": "ops-secret"}
    assert ocp.connector_config(acting=True).credentials["username"] == "ops"
    assert ocp.connector_config().credentials == {}

"""Channel targets are typed by team members and sent to from inside the network: every
address that is not public is refused when the channel is saved and again when a message is
sent, whatever form it is written in, whatever a name resolves to by then."""

import socket

import pytest

from instances.alerts import channels, egress
from instances.alerts.channels import send, target_error
from instances.alerts.models import Channel
from tests.alerts.receivers import http_receiver
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db
MESSAGE = {"title": "[FIRING] x", "facts": [["Error", "boom"]]}
PUBLIC = "93.184.216.34"  # a public address, never contacted: the resolver is stubbed


@pytest.fixture(autouse=True)
def nothing_allowed(settings):
    settings.RUNBOARD_ALERT_ALLOWED_NETWORKS = []
    settings.RUNBOARD_BASE_URL = "https://runboard.example.com"


@pytest.fixture
def dns(monkeypatch):
    """A resolver the test writes: name → address; other names resolve as usual."""
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host in names:
            return real(names[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(egress.socket, "getaddrinfo", resolve)
    return names


def channel(kind: str, target: str) -> Channel:
    made = Channel(team=GroupFactory(), name=kind, kind=kind)
    made.target = target
    made.save()
    return made


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:9/hook",
        "http://127.1:9/hook",  # short form
        "http://2130706433:9/hook",  # decimal
        "http://0x7f000001:9/hook",  # hex
        "http://0177.0.0.1:9/hook",  # octal
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",  # IPv4-mapped
        "http://localhost:9/hook",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
        "http://10.0.0.1/hook",
        "http://192.168.1.10/hook",
        "http://172.16.0.1/hook",
        "http://[fd00::1]/hook",  # unique local
        "http://224.0.0.1/hook",  # multicast
        "http://0.0.0.0/hook",
        "http://240.0.0.1/hook",  # reserved
        "http://internal.example.com/hook",  # a name that resolves to loopback
        "http://user:pw@hooks.example.com/hook",  # userinfo
        "http://token@hooks.example.com/hook",
        "https://runboard.example.com/hook",  # Runboard's own address
    ],
)
def test_an_inner_target_is_refused_at_save_and_at_send(target, dns):
    dns.update({"internal.example.com": "127.0.0.1", "hooks.example.com": PUBLIC})
    dns["runboard.example.com"] = PUBLIC
    assert target_error("webhook", target), target  # refused, as inner or as no URL at all
    outcome = send(channel("webhook", target), MESSAGE, "runboard-1")
    assert not outcome.ok and outcome.error.startswith("Refused"), outcome


def test_a_name_that_turns_inner_after_it_was_saved_is_refused_at_send(dns):
    dns["hooks.example.com"] = PUBLIC
    assert target_error("webhook", "https://hooks.example.com/hook") == ""
    dns["hooks.example.com"] = "127.0.0.1"  # DNS rebinding
    outcome = send(channel("webhook", "https://hooks.example.com/hook"), MESSAGE, "m")
    assert not outcome.ok and "resolves to 127.0.0.1" in outcome.error


def test_a_teams_workflow_on_an_inner_host_is_refused():
    target = "workflow://127.0.0.1:8080/abc/def/?signature=x"
    assert target_error("teams", target).startswith("Refused")
    assert send(channel("teams", target), MESSAGE, "m").error.startswith("Refused")


def test_an_allowed_network_is_honoured_and_a_redirect_inward_is_not_followed(settings):
    settings.RUNBOARD_ALERT_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with http_receiver() as web, http_receiver() as inner:
        assert target_error("webhook", f"{web.url}/hook") == ""
        assert send(channel("webhook", f"{web.url}/hook"), MESSAGE, "m1").ok
        web.status, web.location = 307, inner.url.replace("127.0.0.1", "127.0.0.2") + "/x"
        outcome = send(channel("webhook", f"{web.url}/hook"), MESSAGE, "m2")
        assert not outcome.ok and outcome.code == 307 and outcome.error == "HTTP 307"
        assert len(web.received) == 2 and inner.received == []
    assert target_error("webhook", "http://127.0.0.2:9/hook").startswith("Refused")


def test_errors_are_kept_without_the_channels_secrets(monkeypatch):
    token = "0d6a8e1c-2f3b-4c5d-9e8f-1a2b3c4d5e6f"
    target = f"https://open.feishu.cn/open-apis/bot/v2/hook/{token}"

    def refuse(*args, **kwargs):
        raise ConnectionError(f"failed to reach url: /open-apis/bot/v2/hook/{token}")

    monkeypatch.setattr(channels, "chat", refuse)
    outcome = send(channel("feishu", target), MESSAGE, "m")
    assert not outcome.ok and token not in outcome.error and "•••" in outcome.error
    assert channels.redact(f"GET {target}?x=1", target) == "GET •••?x=1"
    hook = "https://hooks.example.com/h?key=sekrit-value-123"
    assert "sekrit" not in channels.redact("bad key=sekrit-value-123", hook)

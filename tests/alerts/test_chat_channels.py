"""Chat bots through Apprise, as users paste their bots' own webhook URLs: what reaches a local
receiver standing in for each vendor has the shape its documentation gives."""

from urllib.parse import parse_qs, urlsplit

import pytest
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.feishu import NotifyFeishu
from apprise.plugins.slack import NotifySlack
from apprise.plugins.wecombot import NotifyWeComBot

from instances.alerts.channels import chat_target_error, send
from instances.alerts.models import Channel
from tests.alerts.receivers import http_receiver
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db
MESSAGE = {
    "title": "[FIRING] nightly orders failed on EnOS prod",
    "facts": [
        ["Failing step", "load"],
        ["Error", "java.lang.OutOfMemoryError"],
        ["Run", "https://runboard.example/runs/7/#failing"],
    ],
}
BOTS = {
    "slack": "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
    "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/0d6a8e1c-2f3b-4c5d-9e8f-1a2b3c4d5e6f",
    "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=" + "a1b2c3d4" * 8,
    "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
}


@pytest.fixture
def vendor(monkeypatch):
    """Each bot's vendor endpoint moved onto one local receiver, under the vendor's path."""
    with http_receiver() as web:
        monkeypatch.setattr(NotifySlack, "webhook_url", f"{web.url}/services")
        monkeypatch.setattr(
            NotifyFeishu, "notify_url", f"{web.url}/open-apis/bot/v2/hook/{{token}}/"
        )
        monkeypatch.setattr(
            NotifyDingTalk, "notify_url", f"{web.url}/robot/send?access_token={{token}}"
        )
        monkeypatch.setattr(
            NotifyWeComBot, "notify_url", f"{web.url}/cgi-bin/webhook/send?key={{key}}"
        )
        yield web


def sent_to(kind: str, web):
    channel = Channel(team=GroupFactory(), name=kind, kind=kind)
    channel.target = BOTS[kind]
    assert chat_target_error(kind, BOTS[kind]) == ""
    outcome = send(channel, MESSAGE, "runboard-1")
    assert outcome.ok and outcome.code == 200, outcome.error
    assert len(web.received) == 1
    return web.received[0]


def test_slack_gets_an_incoming_webhook_message(vendor):
    got = sent_to("slack", vendor)
    assert got.path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    body = got.json()
    attachment = body["attachments"][0]
    assert attachment["title"] == MESSAGE["title"]
    assert "https://runboard.example/runs/7/#failing" in attachment["text"]


def test_feishu_gets_a_text_message(vendor):
    got = sent_to("feishu", vendor)
    assert got.path.startswith("/open-apis/bot/v2/hook/0d6a8e1c-2f3b-4c5d-9e8f-1a2b3c4d5e6f")
    body = got.json()
    assert body["msg_type"] == "text"
    assert "java.lang.OutOfMemoryError" in body["content"]["text"]


def test_dingtalk_gets_a_robot_message(vendor):
    got = sent_to("dingtalk", vendor)
    url = urlsplit(got.path)
    assert url.path == "/robot/send"
    assert parse_qs(url.query)["access_token"] == ["a1b2c3d4" * 8]
    body = got.json()
    assert body["msgtype"] in ("text", "markdown")
    text = body["text"]["content"] if body["msgtype"] == "text" else body["markdown"]["text"]
    assert "#failing" in text


def test_wecom_gets_a_group_bot_message(vendor):
    got = sent_to("wecom", vendor)
    assert urlsplit(got.path).path == "/cgi-bin/webhook/send"
    body = got.json()
    assert body["msgtype"] in ("text", "markdown")
    assert "load" in str(body)


def test_a_url_for_another_service_is_refused_for_a_kind():
    assert "slack" in chat_target_error("feishu", BOTS["slack"])
    assert chat_target_error("teams", "https://example.com/not-a-bot") != ""

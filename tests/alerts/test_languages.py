"""Each channel speaks its own language: the same failure reaches a Feishu group in Chinese
and on-call's mailbox in English; what receivers read by key (state, url) stays as it is."""

import pytest
from apprise.plugins.feishu import NotifyFeishu

from instances.alerts import delivery
from instances.alerts.models import Alert, AlertRule, Channel
from instances.status import Status
from tests.alerts.receivers import http_receiver
from tests.alerts.test_chat_channels import BOTS
from tests.alerts.test_lifecycle import poll, vendor_run

pytestmark = pytest.mark.django_db


def test_one_failure_in_chinese_to_feishu_and_in_english_by_email(backend, receivers, monkeypatch):
    _web, smtp = receivers
    with http_receiver() as feishu:
        monkeypatch.setattr(
            NotifyFeishu, "notify_url", f"{feishu.url}/open-apis/bot/v2/hook/{{token}}/"
        )
        group = Channel(team=backend.team, name="数据组", kind="feishu", language="zh-hans")
        group.target = BOTS["feishu"]
        group.save()
        mail = Channel(team=backend.team, name="on-call", kind="email")  # English by default
        mail.target = "oncall@example.com"
        mail.save()
        rule = AlertRule.objects.create(team=backend.team, name="failures", kind="failed")
        rule.channels.set([group, mail])
        vendor_run("1", Status.FAILED)
        poll(backend)
        alert = Alert.objects.get()
        assert delivery.deliver_due() == 2

        assert len(feishu.received) == 1
        said = feishu.received[0].json()
        assert said["msg_type"] == "text"  # Feishu's own shape
        text = said["content"]["text"]
        assert "[告警中] nightly orders 在 EnOS prod 上失败" in text
        assert "失败的步骤: task 1-load" in text and "连续失败: 连续 1 次" in text
        assert f"/runs/{alert.run_id}/#failing" in text
        assert "FIRING" not in text and "Failing step" not in text

    english = smtp.messages[0]
    assert english["Subject"] == "[FIRING] nightly orders failed on EnOS prod"
    assert "Failing step: task 1-load" in english.get_payload()
    assert "Streak: 1 failure in a row" in english.get_payload()
    chinese = alert.deliveries.get(channel=group).message
    assert chinese["state"] == "FIRING" and chinese["language"] == "zh-hans"

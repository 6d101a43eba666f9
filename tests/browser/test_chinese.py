"""The whole product in Simplified Chinese, as a browser set to zh-CN asks for it: every page,
in both themes and at both widths, shows no English of Runboard's own outside the vendors'
data (names, ids, errors, statuses in their own words), and axe stays clean, `lang` included."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_accessibility import every_page, open_page, violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.browser_locale("zh-CN"),
    pytest.mark.django_db(transaction=True),
]
# Words that stay as they are in a Chinese page: names of products, vendors, protocols and
# formats, units and zones. Anything else in Latin letters outside vendor data is English
# Runboard forgot to translate.
ALLOWED_WORDS = """
Runboard EnOS DataArts Studio OceanBase OCP Airflow Apache Huawei OpenLineage
Apprise Slack Microsoft Teams Feishu Lark DingTalk WeCom Webhook Webhooks
Standard webhook id timestamp signature JSON CSV API ID URL HTTP SQL DAG
UTC GMT p50 p95 MB English Axes shell metrics
Asia Shanghai Singapore Europe Berlin London America New York Chicago Los Angeles
"""
ALLOWED = set(ALLOWED_WORDS.split())
# Text and labels a reader meets, skipping what is the vendors' (bdi, code, pre: names, ids,
# errors, payloads; translate="no": drawings of vendor names) and what is not shown.
SHOWN_WORDS = """
() => {
  const skip = "bdi, code, pre, script, style, template, noscript, [translate=no]";
  const words = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement.closest(skip)) words.push(node.textContent);
  }
  for (const el of document.querySelectorAll("[title], [aria-label], [placeholder], [alt]")) {
    if (el.closest(skip)) continue;
    for (const name of ["title", "aria-label", "placeholder", "alt"]) {
      if (el.hasAttribute(name)) words.push(el.getAttribute(name));
    }
  }
  words.push(document.title);
  return words.join("\\n");
}
"""


def english_in(page) -> set[str]:
    text = page.evaluate(SHOWN_WORDS)
    for name in vendor_and_people_names():  # in titles and labels, where no <bdi> can go
        text = text.replace(name, " ")
    return {word for word in re.findall(r"[A-Za-z][A-Za-z]+", text) if word not in ALLOWED}


def vendor_and_people_names() -> list[str]:
    """What the vendors and people named: runs, definitions, backends, teams, people, rules,
    channels, tokens and data products, longest first (a name holding another goes whole)."""
    from django.contrib.auth.models import Group, User

    from instances.alerts.models import AlertRule, Channel
    from instances.models import ApiToken, Backend, DataProduct, Instance

    names = {
        *Instance.objects.values_list("name", flat=True),
        *Instance.objects.values_list("definition_name", flat=True),
        *Backend.objects.values_list("name", flat=True),
        *Group.objects.values_list("name", flat=True),
        *User.objects.values_list("username", flat=True),
        *AlertRule.objects.values_list("name", flat=True),
        *Channel.objects.values_list("name", flat=True),
        *ApiToken.objects.values_list("name", flat=True),
        *DataProduct.objects.values_list("name", flat=True),
    }
    return sorted((name for name in names if name), key=len, reverse=True)


@pytest.mark.parametrize("width", [1440, 375])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_is_chinese(page, live_server, polled_ocp, alerting, shots, theme, width):
    page.emulate_media(color_scheme=theme)
    page.set_viewport_size({"width": width, "height": 900})
    folder = shots / "screens"
    folder.mkdir(exist_ok=True)
    page.goto(f"{live_server.url}/login/")
    found = {"login": english_in(page)}
    log_in(page, live_server, heading="总览")
    problems = {}
    for name, path in every_page(polled_ocp, alerting).items():
        open_page(page, live_server, name, path)
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        found[name] = english_in(page)
        problems[name] = violations(page)
        page.screenshot(path=str(folder / f"zh-{name}-{theme}-{width}.png"))
    english = {name: sorted(words) for name, words in found.items() if words}
    assert english == {}, english
    report = [f"{name}: {line}" for name, lines in problems.items() for line in lines]
    assert report == [], "\n".join(report)


def test_on_call_goes_from_the_inbox_to_the_culprits_log_and_acknowledges_in_chinese(
    page, live_server, alerting
):
    """The on-call journey, as a Chinese-speaking operator of the team reads it."""
    from instances.alerts.models import Alert
    from tests.factories import UserFactory

    UserFactory(username="陈静", password="pw", is_staff=True, teams=[alerting])
    page.goto(f"{live_server.url}/login/")
    expect(page.locator("h1")).to_have_text("登录")
    page.fill("#id_username", "陈静")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("总览")
    page.click("#counters a:has-text('失败')")
    expect(page.locator("h1")).to_have_text("失败")
    row = page.locator("table.runs tbody tr", has=page.locator("a.failing")).first
    row.locator("a.failing").click()  # the failing step of the latest failure
    expect(page.locator("dt", has_text="厂商状态")).to_be_visible()
    page.click("button:has-text('加载日志')")
    expect(page.locator("pre.log")).to_be_visible()
    expect(page.locator(".log-tools")).to_contain_text("在日志中查找")
    assert english_in(page) == set()
    page.goto(f"{live_server.url}/failures/")
    page.locator("a.alert-state").first.click()
    expect(page.locator("h1 .badge")).to_have_text("告警中")
    page.click("button:has-text('确认')")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("已确认")
    expect(facts).to_contain_text("由 陈静")
    expect(page.locator("h2:has-text('历史') + table")).to_contain_text("已确认")
    assert english_in(page) == set()
    assert Alert.objects.filter(acknowledged_by__username="陈静").count() == 1

"""Sending one message to one channel: a signed JSON webhook (Standard Webhooks), email
through Django's mail backend, and chat bots (Slack, Teams, Feishu/Lark, DingTalk, WeCom)
through Apprise, from their own webhook URLs or Apprise URLs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import apprise
import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator, validate_email
from standardwebhooks import Webhook

from .models import Channel

TIMEOUT = 10.0
# which Apprise services each chat kind accepts
CHAT_SERVICES: dict[str, set[str]] = {
    Channel.Kind.SLACK: {"slack"},
    Channel.Kind.TEAMS: {"workflow", "workflows"},
    Channel.Kind.FEISHU: {"feishu", "lark"},
    Channel.Kind.DINGTALK: {"dingtalk"},
    Channel.Kind.WECOM: {"wecombot"},
}
# bots' own webhook URLs Apprise reads only in its own form (Slack's and WeCom's it reads as is)
NATIVE = [
    (
        re.compile(
            r"^https://open\.(?:feishu\.cn|larksuite\.com)/open-apis/bot/v2/hook/([\w-]+)/?$"
        ),
        "feishu://{}/",
    ),
    (re.compile(r"^https://oapi\.dingtalk\.com/robot/send\?access_token=(\w+)$"), "dingtalk://{}/"),
]
HTTP_CODE = re.compile(r"error=([1-5]\d\d)\b")  # how Apprise logs a refusal


@dataclass(frozen=True)
class Outcome:
    ok: bool
    code: int | None = None  # HTTP status, or 250 for mail the SMTP server took
    error: str = ""


def text_of(message: dict) -> str:
    lines = [f"{name}: {value}" for name, value in message["facts"]]
    return "\n".join(lines)


def send(channel: Channel, message: dict, message_id: str) -> Outcome:
    try:
        if channel.kind == Channel.Kind.WEBHOOK:
            return webhook(channel, message, message_id)
        if channel.kind == Channel.Kind.EMAIL:
            return email(channel, message)
        return chat(channel, message)
    except Exception as exc:  # any failure is this delivery's, retried later
        return Outcome(False, None, f"{type(exc).__name__}: {exc}")


def webhook(channel: Channel, message: dict, message_id: str) -> Outcome:
    """POST the message as JSON with webhook-id/-timestamp/-signature headers (HMAC-SHA256
    over id.timestamp.body, the Standard Webhooks scheme): receivers verify it with their
    secret and drop a redelivered id."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    stamp = datetime.now(UTC).replace(microsecond=0)
    signature = Webhook(channel.signing_secret).sign(message_id, stamp, body)
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signature,
        "user-agent": "Runboard alerts",
    }
    response = httpx.post(channel.target, content=body.encode(), headers=headers, timeout=TIMEOUT)
    ok = 200 <= response.status_code < 300
    return Outcome(ok, response.status_code, "" if ok else response.text[:300])


def email(channel: Channel, message: dict) -> Outcome:
    addresses = [a.strip() for a in channel.target.split(",") if a.strip()]
    send_mail(subject(message["title"]), text_of(message), settings.DEFAULT_FROM_EMAIL, addresses)
    return Outcome(True, 250)


SUBJECT_LIMIT = 200


def subject(title: str) -> str:
    """A title as one header line: control characters (newlines first) out, capped."""
    line = " ".join("".join(c if c.isprintable() else " " for c in title).split())
    return line if len(line) <= SUBJECT_LIMIT else line[: SUBJECT_LIMIT - 1] + "…"


def apprise_url(target: str) -> str:
    for native, form in NATIVE:
        if found := native.match(target.strip()):
            return form.format(found.group(1))
    return target.strip()


def chat(channel: Channel, message: dict) -> Outcome:
    bot = apprise.Apprise()
    if not bot.add(apprise_url(channel.target)):
        return Outcome(False, None, "not a URL Apprise can send to")
    with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
        ok = bot.notify(
            title=message["title"], body=text_of(message), body_format=apprise.NotifyFormat.TEXT
        )
        said = captured.getvalue()
    if ok:
        return Outcome(True, 200)
    found = HTTP_CODE.search(said)
    return Outcome(False, int(found.group(1)) if found else None, said.strip()[-300:])


def target_error(kind: str, target: str) -> str:
    """Why this target is no channel of this kind ("" when it is one)."""
    try:
        if kind == Channel.Kind.WEBHOOK:
            URLValidator(schemes=["http", "https"])(target)
        elif kind == Channel.Kind.EMAIL:
            for address in target.split(","):
                validate_email(address.strip())
        else:
            return chat_target_error(kind, target)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


def chat_target_error(kind: str, target: str) -> str:
    """Why this URL is no chat bot of this kind ("" when it is one)."""
    plugin = apprise.Apprise.instantiate(apprise_url(target))
    if plugin is None:
        return "not a webhook or Apprise URL this kind of channel can send to"
    named = plugin.secure_protocol or ()
    protocols: set[str] = {named} if isinstance(named, str) else set(named)
    if not protocols & CHAT_SERVICES[kind]:
        return f"this URL is for {sorted(protocols)[0]}, not {Channel.Kind(kind).label}"
    return ""

"""Sending one message to one channel: a signed JSON webhook (Standard Webhooks), email
through Django's mail backend, and chat bots (Slack, Teams, Feishu/Lark, DingTalk, WeCom)
through Apprise, from their own webhook URLs or Apprise URLs."""

from __future__ import annotations

import json
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import apprise
import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from . import egress
from .models import Channel

TIMEOUT = 10.0  # each connect, read and write; the whole send has a deadline of its own
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


class DeadlinePassed(Exception):
    pass


def send(channel: Channel, message: dict, message_id: str) -> Outcome:
    """Send within RUNBOARD_ALERT_SEND_SECONDS, whatever the channel does; any failure is
    this delivery's (retried later), told without the channel's secrets."""
    try:
        with deadline(settings.RUNBOARD_ALERT_SEND_SECONDS):
            if channel.kind == Channel.Kind.WEBHOOK:
                return webhook(channel, message, message_id)
            if channel.kind == Channel.Kind.EMAIL:
                return email(channel, message)
            return chat(channel, message)
    except egress.Refused as exc:
        return Outcome(False, None, redact(f"Refused: {exc}", channel.target))
    except Exception as exc:
        return Outcome(False, None, redact(f"{type(exc).__name__}: {exc}", channel.target))


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Interrupt whatever runs inside after `seconds` (a channel that answers one byte every
    few seconds defeats every per-read timeout). A signal timer, so it works in the main
    thread only: deliveries are sent by the deliverer worker's process, prefork or solo."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise DeadlinePassed(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def redact(text: str, target: str) -> str:
    """The text with the channel target's secrets (bot tokens in paths and queries, passwords,
    the whole URL) replaced, as chat libraries and servers like to quote the URL back."""
    for secret in sorted(secrets_of(target), key=len, reverse=True):
        text = text.replace(secret, "•••")
    return text


def secrets_of(target: str) -> set[str]:
    parts = urlsplit(target.strip())
    found = {target.strip(), parts.password or ""}
    found |= {value for _name, value in parse_qsl(parts.query)}
    found |= {segment for segment in parts.path.split("/") if len(segment) >= 8}
    if parts.scheme not in ("http", "https"):  # an Apprise URL: its host part is a token
        found.add(parts.hostname or "")
    return {secret for secret in found if len(secret) >= 6}


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
    response = pinned_post(channel.target, body.encode(), headers)
    ok = 200 <= response.status_code < 300
    return Outcome(ok, response.status_code, "" if ok else f"HTTP {response.status_code}")


def pinned_post(url: str, body: bytes, headers: dict) -> httpx.Response:
    """POST to the address egress checked just now, not to whatever the name resolves to a
    moment later; the name still goes in Host and in TLS (SNI and certificate). Redirects are
    not followed: a redirect to an inner address would undo the check."""
    destination = egress.check_url(url)
    parts = urlsplit(url.strip())
    address = destination.address
    pinned = parts._replace(
        netloc=f"[{address}]:{destination.port}"
        if ":" in address
        else f"{address}:{destination.port}"
    ).geturl()
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        return client.post(
            pinned,
            content=body,
            headers=headers | {"host": parts.netloc},
            extensions={"sni_hostname": destination.host},
        )


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
    check_chat_host(channel.kind, channel.target)
    with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
        ok = bot.notify(
            title=message["title"], body=text_of(message), body_format=apprise.NotifyFormat.TEXT
        )
        said = captured.getvalue()
    if ok:
        return Outcome(True, 200)
    found = HTTP_CODE.search(said)
    return Outcome(
        False, int(found.group(1)) if found else None, redact(said.strip()[-300:], channel.target)
    )


# Chat kinds whose bot URL names a host of the customer's choosing (Teams workflows); the
# others always go to their vendor's own host.
USER_HOSTED = {Channel.Kind.TEAMS}


def check_chat_host(kind: str, target: str) -> None:
    if kind in USER_HOSTED:
        plugin = apprise.Apprise.instantiate(apprise_url(target))
        if plugin is not None and plugin.host:
            egress.check_host(plugin.host, plugin.port or 443)


def target_error(kind: str, target: str) -> str:
    """Why this target is no channel of this kind ("" when it is one)."""
    try:
        if kind == Channel.Kind.WEBHOOK:
            URLValidator(schemes=["http", "https"])(target)
            egress.check_url(target)
        elif kind == Channel.Kind.EMAIL:
            for address in target.split(","):
                validate_email(address.strip())
        else:
            return chat_target_error(kind, target)
    except ValidationError as exc:
        return " ".join(exc.messages)
    except egress.Refused as exc:
        return f"Refused: {exc}"
    return ""


def chat_target_error(kind: str, target: str) -> str:
    """Why this URL is no chat bot of this kind ("" when it is one)."""
    plugin = apprise.Apprise.instantiate(apprise_url(target))
    if plugin is None:
        return _("not a webhook or Apprise URL this kind of channel can send to")
    named = plugin.secure_protocol or ()
    protocols: set[str] = {named} if isinstance(named, str) else set(named)
    if not protocols & CHAT_SERVICES[kind]:
        return _("this URL is for {protocol}, not {kind}").format(
            protocol=sorted(protocols)[0], kind=Channel.Kind(kind).label
        )
    try:
        check_chat_host(kind, target)
    except egress.Refused as exc:
        return f"Refused: {exc}"
    return ""

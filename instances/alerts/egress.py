"""Where alert messages may go. Channel targets are typed by team members, and the worker
sends to them from inside the network, so a target must name a public host: loopback,
private, link-local (cloud metadata), multicast and reserved addresses are refused, as are
user:password@ addresses and Runboard's own address, unless an administrator allows a network
(RUNBOARD_ALERT_ALLOWED_NETWORKS). Checked when a channel is saved and again at each send,
against the addresses the name resolves to then (DNS rebinding), and the send is pinned to
the address that was checked."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

type Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """This target is not a place Runboard sends to; the message says why."""


@dataclass(frozen=True)
class Destination:
    host: str
    port: int
    address: str  # the checked address to connect to


def check_url(url: str) -> Destination:
    """The URL's destination, if Runboard may send there; else Refused."""
    parts = urlsplit(url.strip())
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Refused("addresses with a user name or password (user@host) are refused")
    if not parts.hostname:
        raise Refused("the address names no host")
    try:
        port = parts.port or (443 if parts.scheme in ("https", "workflows") else 80)
    except ValueError as exc:
        raise Refused(f"bad port: {exc}") from None
    return check_host(parts.hostname, port)


def check_host(host: str, port: int) -> Destination:
    if is_runboard(host, port):
        raise Refused("that is Runboard's own address")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve ({exc})") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    for address in addresses:
        if why := not_public(address):
            raise Refused(f"{host} resolves to {address}, {why}")
    return Destination(host, port, str(addresses[0]))


def not_public(address: Address) -> str:
    """Why sending to this address is refused ("" when it is allowed)."""
    if any(address in network for network in allowed_networks()):
        return ""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return not_public(mapped)
    for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return f"a {kind.replace('_', '-')} address"
    return "" if address.is_global else "not a public address"


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(cidr.strip(), strict=False)
        for cidr in settings.RUNBOARD_ALERT_ALLOWED_NETWORKS
        if cidr.strip()
    ]


def is_runboard(host: str, port: int) -> bool:
    own = urlsplit(settings.RUNBOARD_BASE_URL)
    own_port = own.port or (443 if own.scheme == "https" else 80)
    return (own.hostname or "").lower() == host.lower().rstrip(".") and own_port == port

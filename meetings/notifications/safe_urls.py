"""Where Bookend may post: the guard against server-side request forgery.

A webhook or chat URL is typed by a team admin, and the server posts to it: left
unchecked, that is a way to reach the cloud metadata service (169.254.169.254),
the database or anything else on the private network. The guard is checked at
registration (a clear message) and again at every delivery, against the
addresses the name resolves to then (DNS can change between the two), and the
delivery connects to the address that was checked, never resolving twice.

In production only `https` to public addresses is allowed. The setting
`INTEGRATIONS_ALLOW_LOOPBACK` (on for tests and `make run`) also allows `http`
and loopback addresses, so a local receiver can stand in for the real one;
private and link-local ranges stay refused even then.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValueError):
    """The URL may not be posted to; str() is a message for the team admin."""


@dataclass(frozen=True)
class Target:
    """A checked URL: post to `address` with `host` as the Host and TLS server name."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def allow_loopback() -> bool:
    return bool(getattr(settings, "INTEGRATIONS_ALLOW_LOOPBACK", False))


def check_url(url: str) -> Target:
    """The target to post `url` to, or `UnsafeURL` saying why it may not be used."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"This is not a valid URL ({exc}).") from exc
    schemes = ("https", "http") if allow_loopback() else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeURL("Use an https:// URL.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host name.")
    if parts.username or parts.password:
        raise UnsafeURL("Put no user name or password in the URL; use the signing secret.")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    address = _public_address(host, port)
    if parts.scheme == "http" and not address.is_loopback:
        raise UnsafeURL("Use an https:// URL.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, str(address), path)


def _public_address(host: str, port: int) -> IPAddress:
    """The first address `host` resolves to, if every one of them may be posted to."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host name {host} could not be resolved.") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found]
    if not addresses:
        raise UnsafeURL(f"The host name {host} could not be resolved.")
    for address in addresses:
        # Every address, not the first: a name with one public and one private
        # address could otherwise be pointed at the private one.
        refusal = _refusal(address)
        if refusal:
            raise UnsafeURL(f"{host} resolves to {address}, {refusal}; use a public address.")
    return addresses[0]


def _refusal(address: IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "" if allow_loopback() else "a loopback address"
    if address.is_link_local:
        return "a link-local address (such as a cloud metadata service)"
    if not address.is_global:
        return "a private or reserved address"
    return ""

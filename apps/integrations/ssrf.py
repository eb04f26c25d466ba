"""Server-side request forgery guard for webhook URLs.

A URL is checked when it is registered and again before every send, on the addresses it resolves to
*then* (DNS rebinding): the sender connects to one of exactly the addresses checked here, never
resolving the name a second time. Refused: any address that is not globally routable (private,
loopback, link-local, shared, reserved, documentation ranges), multicast and unspecified addresses,
IPv4 and IPv6 alike, including IPv4 addresses embedded in IPv6 (``::ffff:10.0.0.1``, 6to4).

``WEBHOOK_REQUIRE_HTTPS`` (production: True) refuses plain http; ``WEBHOOK_ALLOW_PRIVATE_URLS``
(development and tests: True) lets a receiver on this machine or the local network through.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from apps.core.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (the Host header and TLS server name)
    port: int
    path: str  # path and query, never empty
    addresses: tuple[str, ...]  # the checked addresses to connect to


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_webhook_url", details={"url": [message]})


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv6Address):
        return address.ipv4_mapped or address.sixtofour
    return None


def is_forbidden(address: IPAddress) -> bool:
    """True for every address a webhook may not reach in production."""
    embedded = _embedded_ipv4(address)
    if embedded is not None and is_forbidden(embedded):
        return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError, ValueError):
        raise _refuse(f"The host {host!r} does not resolve.")
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise _refuse(f"The host {host!r} does not resolve.")
    return addresses


def check_url(url: str) -> Target:
    """Parse, resolve and check ``url``; the addresses to connect to. ValidationFailed naming ``url``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse("Not a valid URL.")
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https"):
        raise _refuse("The URL must start with https://.")
    if scheme == "http" and settings.WEBHOOK_REQUIRE_HTTPS:
        raise _refuse("The URL must use https.")
    if parts.username or parts.password:
        raise _refuse("The URL may not carry a user name or password.")
    host = parts.hostname
    if not host:
        raise _refuse("The URL has no host.")
    if port == 0:
        raise _refuse("The URL's port must be between 1 and 65535.")
    port = port or (443 if scheme == "https" else 80)
    addresses = resolve(host, port)
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    for address in addresses:
        if address.is_unspecified or address.is_multicast:
            raise _refuse(f"The host {host!r} resolves to {address}, which cannot receive webhooks.")
        if not allow_private and is_forbidden(address):
            raise _refuse(
                f"The host {host!r} resolves to {address}, a private, loopback, link-local or reserved address."
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=tuple(str(a) for a in addresses))

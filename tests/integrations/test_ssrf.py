"""The SSRF guard: https in production, no private, loopback, link-local or reserved addresses, checked
on what the host resolves to (``socket.getaddrinfo`` is the process boundary, so it is faked here)."""

from __future__ import annotations

import socket

import pytest

from apps.core.errors import ValidationFailed
from apps.integrations import services, ssrf
from apps.integrations.models import WebhookEndpoint


@pytest.fixture
def production(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    settings.WEBHOOK_REQUIRE_HTTPS = True


@pytest.fixture
def dns(monkeypatch):
    """Resolve names from a table (an address literal resolves to itself)."""
    table: dict[str, list[str]] = {}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        addresses = table.get(host, [host])
        found = []
        for address in addresses:
            try:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                socket.inet_pton(family, address)
            except OSError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            found.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return found

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    return table


FORBIDDEN = [
    "10.0.0.5", "172.16.3.4", "192.168.1.1", "127.0.0.1", "127.5.5.5", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.10",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
]  # fmt: skip


@pytest.mark.parametrize("address", FORBIDDEN)
def test_a_host_resolving_to_a_non_public_address_is_refused(production, dns, address):
    dns["hooks.example.com"] = ["93.184.216.34", address]

    with pytest.raises(ValidationFailed) as exc:
        ssrf.check_url("https://hooks.example.com/in")

    assert exc.value.code == "invalid_webhook_url"
    assert "url" in exc.value.details


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "fe80::1"])
def test_an_address_literal_is_checked_too(production, dns, address):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(ValidationFailed):
        ssrf.check_url(f"https://{host}/in")


def test_a_public_host_passes_and_is_pinned_to_its_checked_addresses(production, dns):
    dns["hooks.example.com"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]

    target = ssrf.check_url("https://hooks.example.com:8443/in?x=1")

    assert (target.host, target.port, target.path) == ("hooks.example.com", 8443, "/in?x=1")
    assert target.addresses == ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")


def test_http_is_refused_in_production(production, dns):
    dns["hooks.example.com"] = ["93.184.216.34"]
    with pytest.raises(ValidationFailed, match="https"):
        ssrf.check_url("http://hooks.example.com/in")


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/", "https://user:pw@hooks.example.com/", "https:///nohost", "not a url"]
)
def test_malformed_urls_are_refused(production, dns, url):
    dns["hooks.example.com"] = ["93.184.216.34"]
    with pytest.raises(ValidationFailed):
        ssrf.check_url(url)


def test_a_name_that_does_not_resolve_is_refused(production, dns):
    with pytest.raises(ValidationFailed, match="does not resolve"):
        ssrf.check_url("https://nowhere.invalid/")


def test_development_settings_allow_a_loopback_receiver(settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_REQUIRE_HTTPS = False

    assert ssrf.check_url("http://127.0.0.1:8001/hooks").addresses == ("127.0.0.1",)
    assert ssrf.check_url("http://[::1]:8001/hooks").addresses == ("::1",)
    with pytest.raises(ValidationFailed):
        ssrf.check_url("http://0.0.0.0:8001/hooks")  # never a destination


def test_registration_refuses_a_private_url_and_stores_nothing(lab, lab_admin, production, dns):
    dns["internal.example.com"] = ["10.0.0.7"]

    with pytest.raises(ValidationFailed) as exc:
        services.endpoint_create(
            actor=lab_admin, organization=lab, url="https://internal.example.com/", event_types=["*"]
        )

    assert "url" in exc.value.details
    assert not WebhookEndpoint.objects.exists()

"""The SSRF guard: which URLs Bookend may post to, with the addresses names resolve to."""

from __future__ import annotations

import socket

import pytest

from meetings.notifications.safe_urls import Target, UnsafeURL, check_url


@pytest.fixture
def dns(monkeypatch):
    """Names resolve to what the test says (no network); literal addresses as they are."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6,
                     "", (a, port)) for a in table[host]]  # fmt: skip
        if any(c.isalpha() for c in host.replace(":", "")) and ":" not in host:
            raise socket.gaierror("Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.fixture(autouse=True)
def production(settings):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = False


def test_a_public_https_url_is_allowed_and_pinned_to_its_address(dns):
    dns["hooks.example.com"] = ["93.184.216.34"]
    assert check_url("https://hooks.example.com/in?team=1") == Target(
        "https", "hooks.example.com", 443, "93.184.216.34", "/in?team=1"
    )
    assert check_url("https://93.184.216.34:8443").port == 8443
    assert check_url("https://93.184.216.34").path == "/"


def test_a_public_ipv6_address_is_allowed(dns):
    dns["v6.example.com"] = ["2606:2800:220:1:248:1893:25c8:1946"]
    assert check_url("https://v6.example.com/").address == "2606:2800:220:1:248:1893:25c8:1946"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.216.34/", "Use an https:// URL."),
        ("ftp://93.184.216.34/", "Use an https:// URL."),
        ("https:///path", "no host name"),
        ("https://user:secret@93.184.216.34/", "no user name or password"),
        ("https://93.184.216.34:99999/", "not a valid URL"),
        ("https://no-such-name.invalid/", "could not be resolved"),
        ("https://127.0.0.1/", "loopback"),
        ("https://localhost/", "loopback"),
        ("https://[::1]/", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[fe80::1]/", "link-local"),
        ("https://10.0.0.5/", "private or reserved"),
        ("https://172.16.3.4/", "private or reserved"),
        ("https://192.168.1.1/", "private or reserved"),
        ("https://100.64.0.1/", "private or reserved"),
        ("https://[fd00::1]/", "private or reserved"),
        ("https://0.0.0.0/", "private or reserved"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[::ffff:169.254.169.254]/", "link-local"),
        ("https://[::ffff:10.0.0.1]/", "private or reserved"),
    ],
)
def test_unsafe_urls_are_refused_with_a_reason(dns, url, message):
    dns["localhost"] = ["127.0.0.1", "::1"]
    with pytest.raises(UnsafeURL, match=message):
        check_url(url)


def test_a_name_with_one_private_address_among_public_ones_is_refused(dns):
    dns["mixed.example.com"] = ["93.184.216.34", "10.1.2.3"]
    with pytest.raises(UnsafeURL, match="resolves to 10.1.2.3"):
        check_url("https://mixed.example.com/")


def test_loopback_and_http_are_allowed_only_when_the_setting_says_so(dns, settings):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = True
    assert check_url("http://127.0.0.1:8080/in").address == "127.0.0.1"
    # Plain http still only to loopback, and private ranges stay refused.
    with pytest.raises(UnsafeURL, match="https"):
        check_url("http://93.184.216.34/")
    with pytest.raises(UnsafeURL, match="link-local"):
        check_url("https://169.254.169.254/")

"""X-Forwarded-For and X-Forwarded-Proto from trusted reverse proxies only."""

from __future__ import annotations

from strongroom.gateway.forwarded import TrustedProxies


def proxies(spec: str) -> TrustedProxies:
    parsed = TrustedProxies.parse(spec)
    assert parsed is not None
    return parsed


def test_no_proxies_configured_is_none() -> None:
    assert TrustedProxies.parse("") is None
    assert TrustedProxies.parse(" , ") is None
    assert TrustedProxies.parse("not-an-address") is None


def test_addresses_and_networks() -> None:
    trusted = proxies("10.0.0.1, 192.168.0.0/16, ::1")
    assert trusted.trusts("10.0.0.1") and trusted.trusts("192.168.7.7") and trusted.trusts("::1")
    assert not trusted.trusts("10.0.0.2") and not trusted.trusts("garbage")
    assert proxies("*").trusts("203.0.113.1")


def test_the_rightmost_untrusted_hop_is_the_client() -> None:
    trusted = proxies("10.0.0.0/8")
    headers = {"x-forwarded-for": "1.1.1.1, 203.0.113.7, 10.0.0.3"}
    # 1.1.1.1 was written by the client itself: it proves nothing.
    assert trusted.resolve("10.0.0.2", False, headers) == ("203.0.113.7", False)


def test_hops_with_ports_and_brackets() -> None:
    trusted = proxies("10.0.0.2")
    assert trusted.resolve("10.0.0.2", False, {"x-forwarded-for": "203.0.113.7:5555"})[0] == (
        "203.0.113.7"
    )
    assert trusted.resolve("10.0.0.2", False, {"x-forwarded-for": "[2001:db8::1]:80"})[0] == (
        "2001:db8::1"
    )
    assert trusted.resolve("10.0.0.2", False, {"x-forwarded-for": "2001:db8::1"})[0] == (
        "2001:db8::1"
    )


def test_every_hop_trusted_gives_the_first() -> None:
    trusted = proxies("10.0.0.0/8")
    headers = {"x-forwarded-for": "10.1.1.1, 10.2.2.2"}
    assert trusted.resolve("10.0.0.2", False, headers) == ("10.1.1.1", False)


def test_an_untrusted_peer_keeps_its_own_address_and_scheme() -> None:
    trusted = proxies("10.0.0.0/8")
    headers = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
    assert trusted.resolve("192.0.2.1", False, headers) == ("192.0.2.1", False)


def test_forwarded_proto() -> None:
    trusted = proxies("10.0.0.2")
    assert trusted.resolve("10.0.0.2", False, {"x-forwarded-proto": "https"}) == (
        "10.0.0.2",
        True,
    )
    assert trusted.resolve("10.0.0.2", True, {"x-forwarded-proto": "HTTP"})[1] is False
    assert trusted.resolve("10.0.0.2", False, {"x-forwarded-proto": "gopher"})[1] is False
    assert trusted.resolve("10.0.0.2", False, {"x-forwarded-for": " , "}) == ("10.0.0.2", False)

"""The client address behind the proxies: X-Forwarded-For is believed only from the hub's own
proxy (a connection from the hub's own address) and the configured trusted proxies; entries a
client forges stay to the left of the ones trusted proxies append and are never taken; a caller
that reaches the hub's port directly (a lab) is known by its own address whatever it sends."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from stellars_hub.web.clientaddress import TrustedProxies, client_address

HUB = "172.18.0.2"  # the hub container's address: its own proxy connects from it
TRAEFIK = "172.18.0.3"
LAB = "172.18.0.9"


class _Socket:
    def __init__(self, local: str):
        self.local = local

    def getsockname(self):
        return (self.local, 8080)


def _request(peer: str, forwarded: str | None = None, local: str = HUB) -> HTTPServerRequest:
    headers = HTTPHeaders({"Host": "hub.example.org"})
    if forwarded is not None:
        headers.add("X-Forwarded-For", forwarded)
    connection = SimpleNamespace(
        context=SimpleNamespace(address=(peer, 50000)), stream=SimpleNamespace(socket=_Socket(local))
    )
    req = HTTPServerRequest(
        start_line=RequestStartLine("POST", "/hub/login", "HTTP/1.1"),
        headers=headers,
        connection=connection,  # type: ignore[arg-type]  # the two attributes Tornado reads
    )
    req.remote_ip = forwarded.split(",")[-1].strip() if forwarded else peer  # what Tornado's xheaders believes
    return req


def test_a_direct_caller_is_its_own_address_whatever_it_claims():
    trusted = TrustedProxies.parse(TRAEFIK)
    assert client_address(_request(LAB, "203.0.113.7"), trusted) == LAB
    assert client_address(_request(LAB, f"203.0.113.7, {TRAEFIK}"), trusted) == LAB  # claiming to be behind Traefik
    assert client_address(_request(LAB), trusted) == LAB


def test_through_the_hubs_own_proxy_only():
    trusted = TrustedProxies.parse("")
    # a client reached configurable-http-proxy directly: the entry it appended is the client
    assert client_address(_request(HUB, "203.0.113.7"), trusted) == "203.0.113.7"
    assert client_address(_request(HUB, "6.6.6.6, 203.0.113.7"), trusted) == "203.0.113.7"  # forged entry ignored
    assert client_address(_request(HUB), trusted) == HUB  # the hub calling itself
    assert client_address(_request("127.0.0.1", "198.51.100.1", local="127.0.0.1"), trusted) == "198.51.100.1"
    # an untrusted Traefik is a client like any other
    assert client_address(_request(HUB, f"198.51.100.4, {TRAEFIK}"), trusted) == TRAEFIK


def test_behind_a_trusted_traefik_the_entry_it_appended_counts():
    for trusted in (TrustedProxies.parse(TRAEFIK), TrustedProxies.parse("172.18.0.0/30, 10.1.0.0/16")):
        assert client_address(_request(HUB, f"6.6.6.6, 198.51.100.4, {TRAEFIK}"), trusted) == "198.51.100.4"
        assert client_address(_request(HUB, f"198.51.100.4, {TRAEFIK}"), trusted) == "198.51.100.4"
        # a lab that reached the hub's proxy directly, claiming Traefik had sent it
        assert client_address(_request(HUB, f"198.51.100.4, {TRAEFIK}, {LAB}"), trusted) == LAB
        # garbage where a trusted proxy would have written an address: the last trusted hop
        assert client_address(_request(HUB, f"not-an-ip, {TRAEFIK}"), trusted) == TRAEFIK


def test_ipv4_mapped_peers_and_entries_are_plain_ipv4():
    trusted = TrustedProxies.parse(TRAEFIK)
    assert client_address(_request(f"::ffff:{HUB}", f"198.51.100.4, ::ffff:{TRAEFIK}"), trusted) == "198.51.100.4"


async def test_proxies_given_by_name_are_looked_up_off_the_loop():
    trusted = TrustedProxies.parse("localhost")
    assert client_address(_request("127.0.0.1", "198.51.100.4", local="127.0.0.2"), trusted) == "127.0.0.1"
    await asyncio.sleep(0)  # the first miss started the look-up
    await trusted._task
    assert client_address(_request("127.0.0.1", "198.51.100.4", local="127.0.0.2"), trusted) == "198.51.100.4"
    nowhere = TrustedProxies.parse("no-such-host.invalid")
    await nowhere.resolve()
    assert client_address(_request("127.0.0.3", "198.51.100.4", local="127.0.0.2"), nowhere) == "127.0.0.3"

"""The client address behind the proxies: entries a client forges stay to the left of the ones
the trusted proxies append, and are never taken."""

from tornado.httputil import HTTPHeaders, HTTPServerRequest

from stellars_hub.web.clientaddress import client_address


def _request(forwarded: str | None) -> HTTPServerRequest:
    headers = HTTPHeaders({"X-Forwarded-For": forwarded} if forwarded is not None else {})
    req = HTTPServerRequest(method="POST", uri="/hub/login", headers=headers)
    req.remote_ip = "10.0.0.2"
    return req


def test_only_the_hubs_proxy_in_front():
    assert client_address(_request("203.0.113.7"), hops=0) == "203.0.113.7"
    assert client_address(_request("6.6.6.6, 203.0.113.7"), hops=0) == "203.0.113.7"  # forged entry ignored


def test_behind_traefik_the_entry_it_appended_counts():
    # client forged 6.6.6.6; Traefik appended the client's real 198.51.100.4; CHP appended Traefik's
    assert client_address(_request("6.6.6.6, 198.51.100.4, 172.18.0.3"), hops=1) == "198.51.100.4"
    assert client_address(_request("198.51.100.4, 172.18.0.3"), hops=1) == "198.51.100.4"


def test_fewer_entries_than_hops_and_no_header():
    assert client_address(_request("172.18.0.3"), hops=1) == "172.18.0.3"
    assert client_address(_request(None), hops=1) == "10.0.0.2"

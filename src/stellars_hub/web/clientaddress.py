"""The address of the client behind the hub's proxies, for per-address limits.

Every proxy appends the address it received the request from to ``X-Forwarded-For``: the hub's
own proxy (configurable-http-proxy) appends the last entry, each reverse proxy in front of it
(Traefik in the compose stack) one more. Entries further left are whatever the client sent and
are never trusted. ``hops`` is how many reverse proxies sit in front of the hub's proxy.
"""

from __future__ import annotations


def client_address(request, hops: int = 0) -> str:
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    if not forwarded:
        return request.remote_ip
    index = len(forwarded) - 1 - hops
    return forwarded[max(0, index)]

"""The address of the client behind the hub's proxies, for per-address limits.

``X-Forwarded-For`` is believed only as far as trusted proxies wrote it. Each proxy appends the
address it received the request from; reading from the right, an entry is taken as the client
once it was appended by a trusted proxy and is not itself a trusted proxy's address:

- the connection itself must come from a trusted proxy, else the header is the caller's own
  invention and the caller is the connection's peer. Labs reach the hub's port directly (not
  through any proxy), so a lab is always known by its own address, whatever it sends.
- trusted by default: the hub's own proxy (configurable-http-proxy, which the hub starts in its
  own container or host: its connections come from the very address they reach, as only a
  process in the hub's own network namespace can);
- trusted by configuration (``JUPYTERHUB_TRUSTED_PROXIES``): the reverse proxies in front of it,
  as addresses, networks (CIDR) or host names (the compose stack's ``traefik``; names are looked
  up off the event loop and again every minute, since a proxy's container address can change).

This is the rule of Tornado's ``xheaders`` with ``trusted_downstream`` and of nginx's
``real_ip_recursive``, except that the header is ignored unless the connection itself comes from
a trusted proxy (Tornado believes the last entry from anyone).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time

log = logging.getLogger("JupyterHub.stellars")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_EVERY = 60.0  # seconds between look-ups of proxies given by name


def parse_address(text: str | None) -> Address | None:
    """An IP address (IPv4-mapped IPv6 as IPv4), or None for anything else."""
    try:
        address = ipaddress.ip_address((text or "").strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` entries are believed: the hub's own proxy, plus
    ``entries`` (addresses, CIDR networks or host names)."""

    def __init__(self, entries=(), clock=time.monotonic):
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.names: list[str] = []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.append(entry.lower())
        self._clock = clock
        self._resolved: set[Address] = set()
        self._resolved_at: float | None = None
        self._task: asyncio.Task | None = None

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        return cls(text.replace(";", ",").split(","))

    def trusts(self, address: Address | None) -> bool:
        if address is None:
            return False
        if any(address in n for n in self.networks) or address in self._resolved:
            return True
        self._resolve_if_old()
        return False

    def _resolve_if_old(self) -> None:
        if not self.names or (self._task is not None and not self._task.done()):
            return
        if self._resolved_at is not None and self._clock() - self._resolved_at < RESOLVE_EVERY:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._task = loop.create_task(self.resolve())

    async def resolve(self) -> None:
        """Look up the proxies given by name (off the event loop); a name that does not resolve
        trusts nothing until it does."""
        loop = asyncio.get_running_loop()
        found: set[Address] = set()
        for name in self.names:
            try:
                infos = await loop.getaddrinfo(name, None, type=socket.SOCK_STREAM)
            except OSError as exc:
                log.debug("trusted proxy %s does not resolve: %s", name, exc)
                continue
            found.update(a for a in (parse_address(str(info[4][0])) for info in infos) if a is not None)
        self._resolved, self._resolved_at = found, self._clock()


def _peer_and_local(request) -> tuple[Address | None, Address | None]:
    """The connection's own ends: the peer as the socket reports it (never a header) and the
    local address it reached."""
    context = getattr(request.connection, "context", None)
    peer_address = getattr(context, "address", None)
    peer = parse_address(peer_address[0]) if isinstance(peer_address, tuple) and peer_address else None
    if peer is None:
        peer = parse_address(getattr(context, "_orig_remote_ip", None))
    local = None
    stream = getattr(request.connection, "stream", None)
    sock = getattr(stream, "socket", None)
    if sock is not None:
        try:
            local = parse_address(sock.getsockname()[0])
        except OSError:
            local = None
    return peer, local


def client_address(request, trusted: TrustedProxies) -> str:
    peer, local = _peer_and_local(request)
    if peer is None:  # not an IP connection (a Unix socket): nothing to tell clients apart by
        return request.remote_ip
    if peer != local and not trusted.trusts(peer):  # peer == local: the hub's own network namespace
        return str(peer)
    entries = [e.strip() for h in request.headers.get_list("X-Forwarded-For") for e in h.split(",") if e.strip()]
    client = peer
    for entry in reversed(entries):
        address = parse_address(entry)
        if address is None:
            break  # a trusted proxy would not write this: the last trusted hop is the client
        client = address
        if not trusted.trusts(address):
            break
    return str(client)

"""Deliver a notification into running JupyterLab sessions (jupyterlab-notifications-extension).

Shared by the admin broadcast and the idle culler's warning. Each lab is reached directly on
its server URL with a token that is scoped to that one server and expires within minutes; all
labs are contacted concurrently with a bounded concurrency and a per-lab timeout, so N labs
cost about one timeout, not N.

A token that delivered is kept (in memory only) and reused for the same server until shortly
before it expires: the lab has already checked it with the hub and caches that answer, so a
later broadcast costs the hub no token round trip per lab. A token whose delivery failed is
revoked at once, so a lab that wakes up later cannot show a message reported as failed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import time
from dataclasses import dataclass

from jupyterhub import orm
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.netutil import DefaultLoopResolver, Resolver

log = logging.getLogger(__name__)

# no_track_activity: a delivery is the hub's doing, not the lab's activity (a warning before
# idle culling must not keep the lab alive: jupyter-server counts API requests without it)
INGEST_PATH = "jupyterlab-notifications-extension/ingest?no_track_activity=1"
TYPES = ("default", "info", "success", "warning", "error", "in-progress")
TOKEN_LIFETIME = 300  # seconds
REUSE_MARGIN = 60  # a kept token is not used in the last minute of its life
DEFAULT_AUTO_CLOSE_MS = 5000  # what "auto-close" means when no duration is given
DEFAULT_TIMEOUT = 5.0
DEFAULT_CONCURRENCY = 32

DELIVERED = "delivered"
FAILED = "failed"

# per-lab failure reasons a person understands
NOT_RUNNING = "server not running"
NOT_RESPONDING = "not responding"
NO_EXTENSION = "notifications extension not installed"
NOT_AUTHORISED = "not authorised"
UNEXPECTED_ANSWER = "unexpected answer from the lab"


@dataclass(frozen=True)
class Delivery:
    username: str
    status: str  # DELIVERED | FAILED
    error: str | None = None
    server: str = ""  # the named server it went to ('' = the default server)

    @property
    def ok(self) -> bool:
        return self.status == DELIVERED

    def as_dict(self) -> dict:
        return {"username": self.username, "server": self.server, "status": self.status, "error": self.error}


def lab_of(target) -> tuple:
    """(user, spawner) of a delivery target: a hub user (their default server) or such a pair
    (one of their named servers)."""
    if isinstance(target, tuple):
        return target
    return target, target.spawner


def payload(message: str, kind: str = "info", auto_close: int | bool = False) -> dict:
    """The ingest body. ``auto_close``: False stays until dismissed, True closes after the
    extension's usual 5 s, a positive number is milliseconds."""
    if auto_close is True:
        auto_close = DEFAULT_AUTO_CLOSE_MS
    elif not auto_close:
        auto_close = False  # JupyterLab wants a number of ms or false, nothing else
    return {
        "message": message,
        "type": kind,
        "autoClose": auto_close,
        "immediate": True,  # pushed at once to open tabs over the extension's websocket
        "actions": [{"label": "Dismiss", "caption": "Close this notification", "displayType": "default"}],
    }


# (user name, server url) -> (token, monotonic expiry) of tokens that delivered
_kept: dict[tuple[str, str], tuple[str, float]] = {}


def _lab_custom_scopes(spawner) -> list[str]:
    """Custom scopes the lab requires besides JupyterHub's access scope (the access feature's
    enter scope on the owner), which the user holds on themselves."""
    return [s for s in getattr(spawner, "oauth_access_scopes", ()) if s.startswith("custom:")]


def server_scoped_token(user, note: str, spawner=None) -> tuple[str, bool]:
    """A short-lived token that may only access this one server of the user (the default one
    unless ``spawner`` says otherwise), and whether it is a kept one (already known to the lab)."""
    spawner = spawner or user.spawner
    key = (user.name, spawner.server.url)
    kept = _kept.get(key)
    if kept is not None and kept[1] - time.monotonic() > REUSE_MARGIN:
        return kept[0], True
    token = user.new_api_token(
        note=note,
        expires_in=TOKEN_LIFETIME,
        scopes=[f"access:servers!server={user.name}/{spawner.name}", *_lab_custom_scopes(spawner)],
    )
    _kept[key] = (token, time.monotonic() + TOKEN_LIFETIME)
    return token, False


def _forget(user, token: str) -> None:
    """Drop and revoke a token whose delivery failed."""
    for key, (kept, _) in list(_kept.items()):
        if kept == token:
            del _kept[key]
    try:
        revoke_token(user, token)
    except Exception:  # it still expires on its own within TOKEN_LIFETIME
        log.exception("could not revoke the notification token of %s", user.name)


def revoke_token(user, token: str) -> None:
    db = user.db
    found = orm.APIToken.find(db, token)
    if found is not None:
        db.delete(found)
        db.commit()


def _reason(exc: HTTPClientError) -> str:
    if exc.code == 599:  # tornado's code for timeouts and dropped connections
        return NOT_RESPONDING
    if exc.code == 404:
        return NO_EXTENSION
    if exc.code in (401, 403) or 300 <= exc.code < 400:  # a redirect means: log in first
        return NOT_AUTHORISED
    return f"the lab answered HTTP {exc.code}"


async def deliver(
    user,
    body: dict,
    timeout: float = DEFAULT_TIMEOUT,
    note: str = "notification",
    client: AsyncHTTPClient | None = None,
    spawner=None,
) -> Delivery:
    """Post ``body`` to one server of a user (the default one unless ``spawner`` names another);
    never raises for a lab's failure."""
    spawner = spawner or user.spawner
    if not spawner.ready or spawner.server is None:
        return Delivery(user.name, FAILED, NOT_RUNNING, spawner.name)
    own_client = client is None
    if client is None:
        client = http_client(10)
    try:
        result, token, was_kept = await _post(user, spawner, body, timeout, note, client)
        if result.ok:
            return result
        if token is not None:
            _forget(user, token)
        if was_kept and result.error == NOT_AUTHORISED:  # a kept token deleted meanwhile: once more
            result, token, _ = await _post(user, spawner, body, timeout, note, client)
            if not result.ok and token is not None:
                _forget(user, token)
        return result
    finally:
        if own_client:
            client.close()


async def _post(user, spawner, body, timeout, note, client) -> tuple[Delivery, str | None, bool]:
    token, was_kept = None, False
    server = spawner.name
    try:
        # inside the try: a hub that may not issue the token (custom roles without
        # access:servers on oneself) fails this lab, not the whole broadcast
        token, was_kept = server_scoped_token(user, note, spawner)
        response = await client.fetch(
            HTTPRequest(
                spawner.server.url.rstrip("/") + "/" + INGEST_PATH,
                method="POST",
                body=json.dumps(body),
                headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
                connect_timeout=timeout,
                request_timeout=timeout,
                follow_redirects=False,
            )
        )
        if not _accepted(response.body):  # something else answered 200
            return Delivery(user.name, FAILED, UNEXPECTED_ANSWER, server), token, was_kept
        return Delivery(user.name, DELIVERED, None, server), token, was_kept
    except HTTPClientError as exc:
        return Delivery(user.name, FAILED, _reason(exc), server), token, was_kept
    except (OSError, asyncio.TimeoutError):  # refused, reset, closed
        return Delivery(user.name, FAILED, NOT_RESPONDING, server), token, was_kept
    except Exception as exc:  # one odd lab must not sink a whole broadcast
        log.exception("notification to %s failed", user.name)
        if token is None:
            return Delivery(user.name, FAILED, NOT_AUTHORISED, server), None, False
        return Delivery(user.name, FAILED, f"unexpected error: {exc.__class__.__name__}", server), token, was_kept


class LiteralResolver(Resolver):
    """Answers an IP address (how the hub knows a lab: ``server.ip``) at once; a name is
    resolved as usual. Tornado's default resolver sends every request's host, literal or not,
    to getaddrinfo on a thread, a hand-off that cost the event loop more per lab than the POST."""

    def initialize(self) -> None:
        self.names = DefaultLoopResolver()

    async def resolve(self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC) -> list:
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return await self.names.resolve(host, port, family)
        if ip.version == 6:
            return [(socket.AF_INET6, (str(ip), port, 0, 0))]
        return [(socket.AF_INET, (str(ip), port))]


def http_client(max_clients: int) -> AsyncHTTPClient:
    """A client of its own for one delivery round (tornado's shared one allows 10 connections)."""
    return AsyncHTTPClient(force_instance=True, max_clients=max_clients, resolver=LiteralResolver())


def _accepted(body: bytes) -> bool:
    try:
        return json.loads(body).get("success") is True
    except (ValueError, AttributeError):
        return False


async def deliver_many(
    users,
    body: dict,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
    note: str = "notification",
) -> list[Delivery]:
    """Deliver to every target concurrently, results in the order of ``users``. A target is a
    hub user (their default server) or a (user, spawner) pair (one of their named servers).

    At most ``concurrency`` labs are contacted at once; with no more hanging labs than that, the
    whole call takes about one ``timeout``. The HTTP client is our own, sized to the same
    bound: tornado's shared client allows 10 connections and counts the time a request waits
    for one against its timeout, which would report healthy labs queued behind hanging ones
    as not responding.
    """
    users = list(users)
    if not users:
        return []
    gate = asyncio.Semaphore(concurrency)
    client = http_client(concurrency)

    async def one(target):
        user, spawner = lab_of(target)
        async with gate:
            return await deliver(user, body, timeout=timeout, note=note, client=client, spawner=spawner)

    try:
        return list(await asyncio.gather(*(one(t) for t in users)))
    finally:
        client.close()

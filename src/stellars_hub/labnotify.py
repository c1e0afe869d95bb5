"""Deliver a notification into running JupyterLab sessions (jupyterlab-notifications-extension).

Shared by the admin broadcast and the idle culler's warning. Each lab is reached directly on
its server URL with a token that is scoped to that one server, expires within minutes and is
revoked as soon as the lab has answered; all labs are contacted concurrently with a bounded
concurrency and a per-lab timeout, so N labs cost about one timeout, not N.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from jupyterhub import orm
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

log = logging.getLogger(__name__)

INGEST_PATH = "jupyterlab-notifications-extension/ingest"
TYPES = ("default", "info", "success", "warning", "error", "in-progress")
TOKEN_LIFETIME = 300  # seconds; the token is revoked earlier, right after delivery
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

    @property
    def ok(self) -> bool:
        return self.status == DELIVERED

    def as_dict(self) -> dict:
        return {"username": self.username, "status": self.status, "error": self.error}


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


def server_scoped_token(user, note: str) -> str:
    """A short-lived token that may only access this user's default server."""
    return user.new_api_token(
        note=note, expires_in=TOKEN_LIFETIME, scopes=[f"access:servers!server={user.name}/"]
    )


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


async def deliver(user, body: dict, timeout: float = DEFAULT_TIMEOUT, note: str = "notification",
                  client: AsyncHTTPClient | None = None) -> Delivery:
    """Post ``body`` to one user's default server; never raises for a lab's failure."""
    spawner = user.spawner
    if not spawner.ready or spawner.server is None:
        return Delivery(user.name, FAILED, NOT_RUNNING)
    own_client = client is None
    if own_client:
        client = AsyncHTTPClient(force_instance=True)
    token = None
    try:
        # inside the try: a hub that may not issue the token (custom roles without
        # access:servers on oneself) fails this lab, not the whole broadcast
        token = server_scoped_token(user, note)
        response = await client.fetch(HTTPRequest(
            spawner.server.url.rstrip("/") + "/" + INGEST_PATH,
            method="POST",
            body=json.dumps(body),
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
            connect_timeout=timeout,
            request_timeout=timeout,
            follow_redirects=False,
        ))
        if not _accepted(response.body):
            return Delivery(user.name, FAILED, UNEXPECTED_ANSWER)  # something else answered 200
        return Delivery(user.name, DELIVERED)
    except HTTPClientError as exc:
        return Delivery(user.name, FAILED, _reason(exc))
    except (OSError, asyncio.TimeoutError):  # refused, reset, closed
        return Delivery(user.name, FAILED, NOT_RESPONDING)
    except Exception as exc:  # one odd lab must not sink a whole broadcast
        log.exception("notification to %s failed", user.name)
        if token is None:
            return Delivery(user.name, FAILED, NOT_AUTHORISED)
        return Delivery(user.name, FAILED, f"unexpected error: {exc.__class__.__name__}")
    finally:
        if token is not None:
            try:
                revoke_token(user, token)
            except Exception:  # it still expires on its own within TOKEN_LIFETIME
                log.exception("could not revoke the notification token of %s", user.name)
        if own_client:
            client.close()


def _accepted(body: bytes) -> bool:
    try:
        return json.loads(body).get("success") is True
    except (ValueError, AttributeError):
        return False


async def deliver_many(users, body: dict, timeout: float = DEFAULT_TIMEOUT,
                       concurrency: int = DEFAULT_CONCURRENCY, note: str = "notification") -> list[Delivery]:
    """Deliver to every user concurrently, results in the order of ``users``.

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
    client = AsyncHTTPClient(force_instance=True, max_clients=concurrency)

    async def one(user):
        async with gate:
            return await deliver(user, body, timeout=timeout, note=note, client=client)

    try:
        return list(await asyncio.gather(*(one(u) for u in users)))
    finally:
        client.close()

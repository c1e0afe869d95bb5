"""Deliver a notification into running JupyterLab sessions (jupyterlab-notifications-extension).

Shared by the admin broadcast and the idle culler's warning. Each lab is reached directly on
its server URL with a token that is scoped to that one server and expires within minutes; all
labs are contacted concurrently with a bounded concurrency and a per-lab timeout.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

INGEST_PATH = "jupyterlab-notifications-extension/ingest"
TYPES = ("default", "info", "success", "warning", "error", "in-progress")
TOKEN_LIFETIME = 300  # seconds

# per-lab failure reasons a person understands
NOT_RUNNING = "server not running"
NOT_RESPONDING = "not responding"
NO_EXTENSION = "notifications extension not installed"
NOT_AUTHORISED = "not authorised"


@dataclass(frozen=True)
class Delivery:
    username: str
    status: str  # "delivered" | "failed"
    error: str | None = None

    def as_dict(self) -> dict:
        return {"username": self.username, "status": self.status, "error": self.error}


def payload(message: str, kind: str = "info", auto_close: int | bool = False) -> dict:
    return {
        "message": message,
        "type": kind,
        "autoClose": auto_close,
        "immediate": True,  # shown at once in open tabs, not only at the next poll
        "actions": [{"label": "Dismiss", "caption": "Close this notification", "displayType": "default"}],
    }


def server_scoped_token(user, note: str) -> str:
    """A short-lived token that may only access this user's default server."""
    return user.new_api_token(
        note=note, expires_in=TOKEN_LIFETIME, scopes=[f"access:servers!server={user.name}/"]
    )


async def deliver(user, body: dict, timeout: float = 5.0, note: str = "notification") -> Delivery:
    spawner = user.spawner
    if not spawner.ready or spawner.server is None:
        return Delivery(user.name, "failed", NOT_RUNNING)
    url = spawner.server.url.rstrip("/") + "/" + INGEST_PATH
    request = HTTPRequest(
        url,
        method="POST",
        body=json.dumps(body),
        headers={"Authorization": f"token {server_scoped_token(user, note)}", "Content-Type": "application/json"},
        connect_timeout=timeout,
        request_timeout=timeout,
        follow_redirects=False,
    )
    try:
        await AsyncHTTPClient().fetch(request)
        return Delivery(user.name, "delivered")
    except HTTPClientError as exc:
        if exc.code == 599:  # tornado's code for timeouts
            return Delivery(user.name, "failed", NOT_RESPONDING)
        if exc.code == 404:
            return Delivery(user.name, "failed", NO_EXTENSION)
        if exc.code in (401, 403) or 300 <= exc.code < 400:  # a redirect means: log in first
            return Delivery(user.name, "failed", NOT_AUTHORISED)
        return Delivery(user.name, "failed", f"the lab answered HTTP {exc.code}")
    except (OSError, asyncio.TimeoutError):
        return Delivery(user.name, "failed", NOT_RESPONDING)


async def deliver_many(users, body: dict, timeout: float = 5.0, concurrency: int = 32, note: str = "notification"):
    """Deliver to every user concurrently; one slow lab costs about one ``timeout``."""
    gate = asyncio.Semaphore(concurrency)

    async def one(user):
        async with gate:
            return await deliver(user, body, timeout=timeout, note=note)

    return await asyncio.gather(*(one(u) for u in users))

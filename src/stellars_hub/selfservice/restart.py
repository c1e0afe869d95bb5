"""Restart Server: the engine's own restart of the running lab container (same id, volumes,
network), then wait until the lab answers through the hub's proxy again."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlparse

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from ..runtime.base import ContainerRuntime
from ..web.errors import http_error

# user name -> phase of a restart in progress, for the page's progress display
PROGRESS: dict[str, dict] = {}


def lab_url_through_proxy(proxy_public_url: str, user_url: str) -> str:
    parsed = urlparse(proxy_public_url)
    host = parsed.hostname or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{host}{port}{user_url}api"


async def wait_until_answering(url: str, bound: float, interval: float = 0.5) -> bool:
    """True once ``url`` answers below 500 (the proxy answers 5xx while the lab is down)."""
    client = AsyncHTTPClient()
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        try:
            await client.fetch(url, follow_redirects=False, request_timeout=5, validate_cert=False)
            return True
        except HTTPClientError as exc:
            if exc.code < 500:
                return True
        except OSError:
            pass
        await asyncio.sleep(interval)
    return False


async def restart_in_place(
    *, user, runtime: ContainerRuntime, proxy, db, stop_timeout: int, ready_timeout: int, spawner=None
) -> dict:
    spawner = spawner or user.spawner  # a named server's spawner, or the default one
    name = spawner.container_id or spawner.container_name
    before = await runtime.inspect_container(name)
    if before is None or not before["State"].get("Running"):
        raise http_error(409, f"the container of {user.name}'s server is not running in the engine; stop the server and start it again")

    PROGRESS[user.name] = {"phase": "restarting", "since": time.time()}
    spawner.restarting_in_place = True  # poll() must not take the short stop for a crash
    try:
        after = await runtime.restart_container(before["Id"], stop_timeout)
    finally:
        spawner.restarting_in_place = False

    if not spawner.host_network:
        ip = spawner.get_network_ip(after["NetworkSettings"])
        if ip and ip != spawner.server.ip:
            spawner.server.ip = ip
            db.commit()
            await proxy.add_user(user, spawner.name)

    PROGRESS[user.name] = {"phase": "waiting for the lab", "since": time.time()}
    server_url = spawner.server.base_url if spawner.name else user.url
    url = lab_url_through_proxy(proxy.public_url, server_url)
    if not await wait_until_answering(url, ready_timeout):
        raise http_error(
            504,
            f"the container restarted but the lab did not answer within {ready_timeout} s; "
            "stop your server and start it again (your files are safe)",
        )
    return {
        "status": "restarted",
        "container": after["Name"].lstrip("/"),
        "container_id": after["Id"],
        "started_at": after["State"]["StartedAt"],
        "previous_started_at": before["State"]["StartedAt"],
        "url": server_url,
    }

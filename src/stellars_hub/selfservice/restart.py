"""Restart Server: the engine's own restart of the running lab container (same id, volumes,
network), then wait until the lab answers through the hub's proxy again."""

from __future__ import annotations

import time
from urllib.parse import urlparse

from ..labwait import wait_until_answering
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


async def restart_in_place(
    *, user, runtime: ContainerRuntime, proxy, db, stop_timeout: int, ready_timeout: int
) -> dict:
    spawner = user.spawner
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
            await proxy.add_user(user)

    PROGRESS[user.name] = {"phase": "waiting for the lab", "since": time.time()}
    url = lab_url_through_proxy(proxy.public_url, user.url)
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
        "url": user.url,
    }

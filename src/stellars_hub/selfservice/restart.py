"""Restarting a running lab: ``restart_server`` is the one function every path that restarts a lab
calls (Restart Server, batch restarts). Under the user's rate limit and lock it checks the lab
runs, then either recreates it (stop + start through JupyterHub) when what its user should get
changed since its container was created (a group policy, membership, own variables: the engine's
restart would bring back the old settings, privileges included), or restarts it in place: the
engine's own restart of the same container (same id, volumes, network), then a wait until the
lab answers through the hub's proxy again."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlparse

from .. import policies
from ..errors import BadRequest, Conflict, Failed, TimedOut
from ..labwait import wait_until_answering
from ..runtime.base import ContainerRuntime
from ..web.ratelimit import RateLimiter
from ..web.servers import server_spawner
from ..web.sharedread import SharedReads
from . import state
from .config import SelfService

# user name -> phase of a restart in progress, for the page's progress display
PROGRESS: dict[str, dict] = {}


def lab_url_through_proxy(proxy_public_url: str, user_url: str) -> str:
    parsed = urlparse(proxy_public_url)
    host = parsed.hostname or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{host}{port}{user_url}api"


def lab_address(spawner) -> tuple[str, int] | None:
    """Where the lab itself listens, to knock on before looking through the proxy (None: unknown)."""
    server = spawner.server
    ip = server.ip if server is not None else ""
    if not ip or ip in ("0.0.0.0", "::") or not server.port:
        return None
    return ip, server.port


def rate_limiter(handler) -> RateLimiter:
    """The hub's one limit of restarts and resets per user (JUPYTERHUB_SELFSERVICE_RATE_LIMIT)."""
    limit = handler.configured(SelfService).rate_limit
    return handler.settings.setdefault("stellars_selfservice_limiter", RateLimiter(limit, 60))


INSPECTION_MAX_AGE = 10  # seconds a lab's engine state answers the restart page's polls


def lab_inspections(platform) -> SharedReads:
    """The hub's shared engine reads of labs' containers (by name or id)."""
    return platform.shared("lab-inspections", lambda: SharedReads(INSPECTION_MAX_AGE))


async def outdated(handler, spawner, fresh: bool = True) -> str | None:
    """Why restarting this lab must recreate it instead of restarting it in place (None: it may
    be restarted in place, or it is not running). Not ``fresh``: the lab's state as read for
    anyone in the last seconds (the control page polls this; one engine read serves every poll)."""
    if not spawner.active or spawner.pending:
        return None
    name = spawner.container_id or spawner.container_name
    # keyed by this start too: a pod recreated under the same name is another lab
    key = (name, spawner.orm_spawner.started if spawner.orm_spawner else None)
    info = await lab_inspections(handler.platform).get(key, lambda: handler.runtime.inspect_container(name), fresh)
    try:
        return await policies.outdated_reason(handler.platform, spawner, info)
    except BadRequest as exc:  # e.g. its profile is no longer offered: a restart is refused (400)
        if fresh:
            raise
        return f"the lab cannot be restarted as it is: {exc}"


async def restart_server(handler, user, server_name: str = "", action: str = "restart-server") -> dict:
    """Restart one running lab of ``user`` ('' = the default server) as ``action`` (the name the
    user's lock shows): the one way every request restarts a lab. Raises RateLimited (429),
    Busy (409: another operation holds the user), Conflict (409: not running) and the restart's
    own errors; the caller writes the audit line."""
    rate_limiter(handler).hit(user.name)
    async with handler.user_locks.exclusive(user.name, action):
        spawner = server_spawner(user, server_name)
        state.require_running(user, spawner)  # inside the lock: nobody can change it under us
        try:
            reason = await outdated(handler, spawner)
            if reason:  # the server's own lab is recreated, never another of the user's
                return await recreate(
                    user=user,
                    reason=reason,
                    proxy=handler.proxy,
                    stop=lambda: handler.stop_single_user(user, server_name),
                    spawn=lambda: handler.spawn_single_user(user, server_name),
                    ready_timeout=handler.configured(SelfService).restart_ready_timeout,
                    server_name=server_name,
                )
            await policies.check_host_paths(handler.platform, spawner)  # the engine mounts them again
            return await restart_for(handler, user, spawner)
        finally:
            PROGRESS.pop(user.name, None)


async def restart_for(handler, user, spawner) -> dict:
    """restart_in_place with a hub handler's runtime, proxy and database, and the configured
    timeouts (only through ``restart_server``)."""
    config = handler.configured(SelfService)
    return await restart_in_place(
        user=user,
        runtime=handler.runtime,
        proxy=handler.proxy,
        db=handler.db,
        stop_timeout=config.restart_timeout,
        ready_timeout=config.restart_ready_timeout,
        spawner=spawner,
    )


async def restart_in_place(
    *, user, runtime: ContainerRuntime, proxy, db, stop_timeout: int, ready_timeout: int, spawner=None
) -> dict:
    spawner = spawner or user.spawner  # a named server's spawner, or the default one
    name = spawner.container_id or spawner.container_name
    before = await runtime.inspect_container(name)
    if before is None or not before["State"].get("Running"):
        raise Conflict(
            f"the container of {user.name}'s server is not running in the engine; stop the server and start it again"
        )

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
    if not await wait_until_answering(url, ready_timeout, address=lab_address(spawner)):
        raise TimedOut(
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


async def recreate(
    *, user, reason: str, stop, spawn, proxy, ready_timeout: int, poll: float = 0.5, server_name: str = ""
) -> dict:
    """Stop and start the lab through JupyterHub (a new container built from what the user's lab
    should get now): the engine's restart would bring back the old settings, privileges included.
    ``server_name``: which of the user's servers ('' = the default one)."""
    spawner = user.spawners[server_name]
    old_id = spawner.container_id
    PROGRESS[user.name] = {"phase": "recreating", "since": time.time(), "reason": reason}
    await stop()
    deadline = time.monotonic() + ready_timeout
    while user.spawners[server_name].pending or user.spawners[server_name].active:
        if time.monotonic() > deadline:
            raise TimedOut(f"the lab did not stop within {ready_timeout} s; try again later (your files are safe)")
        await asyncio.sleep(poll)
    await spawn()
    spawner = user.spawners[server_name]  # JupyterHub may hand out a new spawner object after a stop
    while spawner.pending:
        if time.monotonic() > deadline:
            raise TimedOut(
                f"the new lab did not start within {ready_timeout} s; start your server from the home page (your files are safe)"
            )
        await asyncio.sleep(poll)
    if not spawner.ready:
        raise Failed(
            "the lab was stopped to apply its new settings but did not start again; "
            "start it from the home page and ask your administrator if it fails (your files are safe)"
        )
    PROGRESS[user.name] = {"phase": "waiting for the lab", "since": time.time()}
    server_url = spawner.server.base_url if server_name else user.url
    url = lab_url_through_proxy(proxy.public_url, server_url)
    if not await wait_until_answering(url, max(5.0, deadline - time.monotonic())):
        raise TimedOut(
            f"the new lab did not answer within {ready_timeout} s; stop your server and start it again (your files are safe)"
        )
    return {
        "status": "recreated",
        "reason": reason,
        "container": spawner.container_name,
        "container_id": spawner.container_id,
        "previous_container_id": old_id,
        "url": server_url,
    }

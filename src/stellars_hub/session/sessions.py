"""Session info, extensions and the culling warning for one server of a user (hub side): the
default server unless a named server's spawner is given. Each server has its own deadline and
its own allowance per start.

The extension store is a small SQLite file: every call to it runs on that file's own thread,
never the hub's event loop. The hub's ORM objects are read on the loop only.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import cast

from ..errors import BadRequest, Conflict
from ..web.jsonbody import reject_unknown
from . import deadline as dl
from .config import IdleCuller
from .store import ExtensionStore

# The largest request accepted at all (and truncated to what is left); beyond it is a mistake.
MAX_REQUEST_HOURS = cast(int, IdleCuller.max_extension.max)  # the setting has a maximum


def _hours(n: int) -> str:
    return f"{n} hour" + ("" if n == 1 else "s")


def server_label(user, spawner) -> str:
    """How messages name a server: "ann's server" or "ann's server 'gpu'"."""
    return f"{user.name}'s server" + (f" {spawner.name!r}" if spawner.name else "")


async def start_policy(policy: dl.Policy, store: ExtensionStore, username: str, started, server: str = "") -> dl.Policy:
    """The culling rules of one server start: the site's, with the idle timeout and maximum age
    recorded when it started (its groups' policy, GPU defaults: ``limits.py``)."""
    recorded = await store.limits(username, started, server)
    return policy.for_start(recorded[0], recorded[1]) if recorded else policy


async def deadline_of(
    policy: dl.Policy, store: ExtensionStore, username: str, server: str, started, last_activity
) -> dl.Deadline:
    """The one deadline computation (session card, API, warning, activity page, the culler)."""
    rules = await start_policy(policy, store, username, started, server)
    hours = await store.hours(username, started, server)
    return dl.compute(rules, last_activity=last_activity, started=started, extension_hours=hours)


async def server_deadline(policy: dl.Policy, store: ExtensionStore, user, spawner=None) -> dl.Deadline:
    """The deadline of one of ``user``'s running servers (default: the default server), from the
    hub's own records."""
    spawner = spawner or user.spawner
    orm = spawner.orm_spawner
    return await deadline_of(policy, store, user.name, spawner.name or "", orm.started, orm.last_activity)


async def info(policy: dl.Policy, store: ExtensionStore, user, now: datetime | None = None, spawner=None) -> dict:
    spawner = spawner or user.spawner
    running = bool(spawner.ready)
    orm = spawner.orm_spawner
    used = await store.hours(user.name, orm.started, spawner.name) if running else 0
    recorded = await store.limits(user.name, orm.started, spawner.name or "") if running else None
    rules = policy.for_start(recorded[0], recorded[1]) if recorded else policy
    model = {
        "culler_enabled": policy.enabled,
        "server_active": running,
        "timeout_seconds": rules.timeout,
        "last_activity": dl.iso(dl.naive_utc(orm.last_activity)) if running else None,
        "time_remaining_seconds": None,
        "extension_used_hours": used,
        "extension_available_hours": max(0, policy.max_extension_hours - used),
        "max_extension_hours": policy.max_extension_hours,
        # beyond the documented fields: what the card needs to explain the countdown
        "max_age_seconds": rules.max_age,
        "limits_from": recorded[2] if recorded else "default",
        "deadline": None,
        "stop_reason": None,
    }
    if policy.enabled and running:
        d = dl.compute(rules, last_activity=orm.last_activity, started=orm.started, extension_hours=used)
        if not d.never:
            model["time_remaining_seconds"] = max(0, math.floor(d.remaining(now or dl.utcnow())))
            model["deadline"] = dl.iso(d.at)
            model["stop_reason"] = d.reason
    if spawner.name:  # a named server's answer says which one (the default server's is as it always was)
        model["server"] = spawner.name
    return model


def parse_hours(body) -> int:
    """``{"hours": N}`` with N a whole number >= 1 (BadRequest otherwise)."""
    if not isinstance(body, dict) or "hours" not in body:
        raise BadRequest('send a JSON object like {"hours": 2}')
    reject_unknown(body, ("hours",))
    hours = body["hours"]
    if isinstance(hours, bool) or not isinstance(hours, int):
        raise BadRequest(f'"hours" must be a whole number of hours such as 1 or 2, not {hours!r}')
    if hours < 1:
        raise BadRequest(f'"hours" must be at least 1, not {hours}')
    if hours > MAX_REQUEST_HOURS:
        raise BadRequest(f'"hours" must be at most {MAX_REQUEST_HOURS}; ask for what you need, up to your allowance')
    return hours


def require_extendable(policy: dl.Policy, user, spawner=None) -> None:
    if not policy.enabled:
        raise Conflict("idle culling is off on this hub, so there is no session to extend")
    spawner = spawner or user.spawner
    label = server_label(user, spawner)
    if spawner.pending:
        raise Conflict(f"{label} is {spawner.pending}ing; wait until it is running, then extend")
    if not spawner.ready:
        raise Conflict(f"{label} is not running; start it first, then extend its session")


async def extend(policy: dl.Policy, store: ExtensionStore, user, hours: int, spawner=None) -> dict:
    """Add ``hours`` (cut to what is left of the allowance) to the running server's session."""
    spawner = spawner or user.spawner
    require_extendable(policy, user, spawner)
    started = spawner.orm_spawner.started
    limit = policy.max_extension_hours
    if limit == 0:
        raise Conflict("extending sessions is turned off on this hub")
    granted, total = await store.add(user.name, started, hours, limit, spawner.name)
    if granted == 0:
        raise Conflict(
            f"all {_hours(limit)} of the extension allowance are used for this server start; "
            "it starts afresh the next time the server is started",
        )
    truncated = granted < hours
    model = await info(policy, store, user, spawner=spawner)
    left = limit - total
    if truncated:
        message = (
            f"Only {_hours(granted)} of the allowance were left, so the session was extended by "
            f"{_hours(granted)} instead of {hours}. No extension hours are left for this server start."
        )
    else:
        message = f"Session extended by {_hours(granted)}; {_hours(left)} of {limit} left for this server start."
    model.update({"truncated": truncated, "granted_hours": granted, "message": message})
    return model


def warning_text(policy: dl.Policy, d: dl.Deadline, now: datetime, home_url: str) -> str:
    minutes = max(1, round(d.remaining(now) / 60))
    when = f"in about {minutes} minute{'s' if minutes != 1 else ''} ({d.at:%H:%M} UTC)"
    if d.reason == dl.MAX_AGE:
        return (
            f"This server will be stopped {when}: it has reached the maximum running time. "
            "Save your work; your files are kept and you can start it again."
        )
    return (
        f"This server has been idle and will be stopped {when}. Use it to keep it running, or "
        f"extend your session on the hub home page ({home_url}). Your files are kept either way."
    )

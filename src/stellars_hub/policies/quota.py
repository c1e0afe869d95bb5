"""Soft storage quota per group policy (``quota_gb``): use of a user's own lab volumes measured by
the engine against the most generous quota of their groups. Nothing is ever deleted or blocked:
users over quota are warned inside JupyterLab at most once a day, admins see who is over."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from contextlib import closing

from .. import labnotify, naming

log = logging.getLogger("JupyterHub.quota")
GB = 1000**3
WARN_EVERY = 24 * 3600  # seconds between two warnings to the same user


def human(n: int | None) -> str:
    if n is None:
        return "unknown"
    for unit, size in (("TB", 1000**4), ("GB", GB), ("MB", 1000**2), ("KB", 1000)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


async def used_bytes(runtime, user_name: str, volume_keys) -> int | None:
    names = [naming.volume_name(user_name, key) for key in volume_keys]
    info = await runtime.volumes(names, with_sizes=True)
    sizes = [v.size_bytes for v in info.values() if v.exists]
    if any(s is None for s in sizes):
        return None  # the engine has not measured some volume yet
    return sum(sizes)


def status(user_name: str, used: int | None, quota_gb: float | None, groups: list[str]) -> dict:
    quota = int(quota_gb * GB) if quota_gb else None
    over = bool(quota and used is not None and used > quota)
    if quota:
        text = f"{human(used)} of {human(quota)}" + (" (over quota)" if over else "")
    else:
        text = f"{human(used)} (no quota)"
    return {"username": user_name, "used_bytes": used, "quota_bytes": quota, "over": over,
            "text": text, "quota_text": human(quota) if quota else None, "from_groups": groups}


class WarnedStore:
    """When each user was last warned (the platform's environment file, its own table)."""

    SCHEMA = "CREATE TABLE IF NOT EXISTS quota_warned (username TEXT PRIMARY KEY, warned_at REAL NOT NULL)"

    def __init__(self, path: str):
        self.path = path

    def _connect(self):
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.execute(self.SCHEMA)
        return conn

    def last(self, username: str) -> float:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT warned_at FROM quota_warned WHERE username = ?", (username,)).fetchone()
        return row[0] if row else 0.0

    def mark(self, username: str, when: float) -> None:
        with closing(self._connect()) as conn:
            conn.execute("INSERT INTO quota_warned VALUES (?, ?) ON CONFLICT(username) DO UPDATE SET warned_at = excluded.warned_at",
                         (username, when))


async def statuses(policies, runtime, users) -> list[dict]:
    """Every user with a quota, measured with one engine call (``docker df`` walks every volume)."""
    wanted = []
    for user in users:
        eff = await policies.effective(user.orm_user, False)
        if eff.quota_gb:
            names = [naming.volume_name(user.name, v.key) for v in user.spawner.volume_specs]
            wanted.append((user, eff, names))
    info = await runtime.volumes([n for _, _, names in wanted for n in names], with_sizes=True) if wanted else {}
    rows = []
    for user, eff, names in wanted:
        sizes = [info[n].size_bytes for n in names if info[n].exists]
        used = None if any(s is None for s in sizes) else sum(sizes)
        rows.append(status(user.name, used, eff.quota_gb, eff.sources.get("quota_gb", [])))
    return rows


async def user_status(policies, runtime, user) -> dict:
    eff = await policies.effective(user.orm_user, False)
    used = await used_bytes(runtime, user.name, [v.key for v in user.spawner.volume_specs])
    return status(user.name, used, eff.quota_gb, eff.sources.get("quota_gb", []))


async def warn_over_quota(policies, runtime, users, warned: WarnedStore, now: float | None = None) -> list[str]:
    """One pass: warn each running lab whose user is over quota and was not warned for a day."""
    now = time.time() if now is None else now
    sent = []
    for user in list(users.values()):
        if not user.spawner.active or user.spawner.pending:
            continue
        eff = await policies.effective(user.orm_user, False)
        if not eff.quota_gb:
            continue
        if now - await asyncio.to_thread(warned.last, user.name) < WARN_EVERY:
            continue
        st = await user_status(policies, runtime, user)
        if not st["over"]:
            continue
        message = f"Your lab's storage is over quota: {st['text']}. Please delete files you no longer need."
        delivery = await labnotify.deliver(user, labnotify.payload(message[:140], "warning"), note="storage quota")
        if delivery.ok:
            await asyncio.to_thread(warned.mark, user.name, now)
            sent.append(user.name)
            log.info("Warned %s: storage %s", user.name, st["text"])
    return sent


_tasks: set = set()


def start_warnings(policies, interval: int) -> None:
    """From hubconfig.apply inside a starting hub: check every ``interval`` seconds."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return  # not inside a starting hub (configuration checks)
    task = loop.create_task(_run(policies, interval))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _run(policies, interval: int) -> None:
    from jupyterhub.app import JupyterHub

    from ..runtime import DockerRuntime

    if not JupyterHub.initialized():
        return
    app = JupyterHub.instance()
    while getattr(app, "tornado_application", None) is None:
        await asyncio.sleep(0.2)
    runtime = DockerRuntime(max_workers=1)
    warned = WarnedStore(policies.env_store.path)
    while True:
        try:
            await warn_over_quota(policies, runtime, app.users, warned)
        except Exception:
            log.exception("storage quota check failed; trying again in %s s", interval)
        await asyncio.sleep(interval)

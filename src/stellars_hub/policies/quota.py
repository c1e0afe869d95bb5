"""Soft storage quota per group policy (``quota_gb``): use of a user's own lab volumes measured by
the engine against the most generous quota of their groups. Nothing is ever deleted or blocked:
users over quota are warned inside JupyterLab at most once a day, admins see who is over."""

from __future__ import annotations

import asyncio
import logging
import time

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


async def used_bytes(runtime, volume_names: naming.VolumeNames, user_name: str, volume_keys) -> int | None:
    names = [volume_names.volume_name(user_name, key) for key in volume_keys]
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
    return {
        "username": user_name,
        "used_bytes": used,
        "quota_bytes": quota,
        "over": over,
        "text": text,
        "quota_text": human(quota) if quota else None,
        "from_groups": groups,
    }


async def statuses(policies, runtime, users) -> list[dict]:
    """Every user with a quota, measured with one engine call (``docker df`` walks every volume)."""
    wanted = []
    for user in users:
        eff = await policies.effective(user.orm_user, False)
        if eff.quota_gb:
            names = [policies.platform.volume_names.volume_name(user.name, v.key) for v in user.spawner.volume_specs]
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
    keys = [v.key for v in user.spawner.volume_specs]
    used = await used_bytes(runtime, policies.platform.volume_names, user.name, keys)
    return status(user.name, used, eff.quota_gb, eff.sources.get("quota_gb", []))


async def warn_over_quota(policies, runtime, users, now: float | None = None) -> list[str]:
    """One pass: warn each running lab whose user is over quota and was not warned for a day."""
    now = time.time() if now is None else now
    sent = []
    for user in list(users.values()):
        if not user.spawner.active or user.spawner.pending:
            continue
        eff = await policies.effective(user.orm_user, False)
        if not eff.quota_gb:
            continue
        if now - await policies.store.warned_at(user.name) < WARN_EVERY:
            continue
        st = await user_status(policies, runtime, user)
        if not st["over"]:
            continue
        message = f"Your lab's storage is over quota: {st['text']}. Please delete files you no longer need."
        delivery = await labnotify.deliver(user, labnotify.payload(message[:140], "warning"), note="storage quota")
        if delivery.ok:
            await policies.store.mark_warned(user.name, now)
            sent.append(user.name)
            log.info("Warned %s: storage %s", user.name, st["text"])
    return sent


async def check_forever(policies, runtime, app, interval: int) -> None:
    """Once the hub serves requests (the policies feature's on_start): check every ``interval`` s."""
    while True:
        try:
            await warn_over_quota(policies, runtime, app.users)
        except Exception:
            log.exception("storage quota check failed; trying again in %s s", interval)
        await asyncio.sleep(interval)

"""Backups follow the user: a rename carries the results to the new name, a delete drops them
(a later user of the name never sees them), and volumes removed for good take their archives
with them, so nothing of a deleted user can be restored into whoever takes the name next."""

from __future__ import annotations

import logging

from .jobs import JobFailed
from .scheduler import scheduler_for

log = logging.getLogger("JupyterHub.backups")


def user_renamed(platform, old: str, new: str):
    return scheduler_for(platform).store.rename_user(old, new)


def user_deleted(platform, name: str):
    return scheduler_for(platform).store.delete_user(name)


async def forget_volumes(platform, volumes: list[str]) -> list[str]:
    """The archives and results of volumes removed for good (a user deleted with their volumes,
    a deleted user's kept volumes removed); the archives deleted. Raises JobFailed when the
    target could not be cleaned."""
    scheduler = scheduler_for(platform)
    had_results = await scheduler.store.forget_volumes(volumes)
    if not volumes or not (had_results or scheduler.enabled):
        return []  # backups never ran for them: the target is not even touched
    try:
        removed = await scheduler.jobs.remove(volumes)
    except JobFailed as exc:
        log.warning("archives of %s not removed: %s", ", ".join(volumes), exc)
        raise
    return removed

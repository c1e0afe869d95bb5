"""What one feature adds to the hub, declared in one record (its folder's ``feature.py``).

``hubconfig.apply`` reads every record: custom scopes and the scopes every user holds on
themselves, navigation entries, hub routes (and the few that must win over JupyterHub's own),
JupyterHub configuration it adds (managed services and their roles, groups, the logo), its
settings classes; and hands the records to the hub's :class:`~stellars_hub.platform.Platform`,
which runs the pre-spawn and post-stop steps, the background work and the hooks that keep the
feature's own records in step with the hub's users. Hooks receive the platform.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Hook = Callable[..., Awaitable[None] | None]


@dataclass(frozen=True)
class BackupVolume:
    """A volume that belongs to no single user, backed up with every scheduled round: ``key`` names
    it in the backup results, ``lock`` is the operation lock its backup holds (None: none),
    ``group`` the group whose project folder it is ('' : the hub's)."""

    volume: str
    key: str
    lock: str | None = None
    group: str = ""


@dataclass(frozen=True)
class Feature:
    name: str
    scopes: dict[str, dict] = field(default_factory=dict)  # custom scopes this feature defines
    user_scopes: tuple[str, ...] = ()  # filtered scopes every user holds on themselves ("...!user")
    nav: tuple[dict, ...] = ()  # {"id", "label", "path", "admin", "order"}
    handlers: tuple[tuple, ...] = ()  # hub routes, below the hub's base URL + "hub"
    priority_handlers: tuple[tuple, ...] = ()  # routes that must win over JupyterHub's own
    configure: Callable[..., None] | None = None  # (c, settings, setdefault): JupyterHub config it adds
    pre_spawn: Hook | None = None  # (platform, spawner), before every start of a lab
    post_stop: Hook | None = None  # (platform, spawner), after every stop of a lab
    on_start: Hook | None = None  # (platform), once the hub serves requests
    on_user_renamed: Hook | None = None  # (platform, old, new), after the rename is committed
    on_user_deleted: Hook | None = None  # (platform, name), when the hub deletes a user
    # (platform) -> awaitable set of the user names it keeps records of: at start-up, records of
    # a name the hub has no user of are dropped through on_user_deleted (reconcile feature)
    record_users: Callable[..., Awaitable[set[str]]] | None = None
    template_vars: Callable[[Any], dict] | None = None  # (settings) -> variables for every page
    config_classes: tuple[type, ...] = ()  # its settings (c.<Class>.*), for the loader, --help-all, the README
    # long-running work, (platform, app) -> coroutine: started once the hub serves requests, held
    # and cancelled by the platform
    background: tuple[Callable[..., Awaitable[None]], ...] = ()
    # (platform) -> [BackupVolume] (or an awaitable of them): volumes of no single user that every
    # scheduled backup round takes too (the shared volume and the hub's own state are the
    # backups feature's)
    backup_volumes: Callable[..., Any] | None = None
    # (platform, detailed) -> warnings /hub/readiness shows beside its checks (name -> text);
    # detailed False (a caller who may not read the hub's settings): nothing that tells how many
    # labs or users there are
    readiness: Callable[..., dict[str, str]] | None = None

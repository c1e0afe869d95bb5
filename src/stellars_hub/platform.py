"""What the platform keeps once per hub: its settings, its container runtime, its locks, the
features it was handed (their lifecycle hooks and background work) and the objects they share.
It imports no feature and no backend: the config entry point (``hubconfig.apply``) hands it the
feature list, the settings classes and the backend's runtime class through ``c.Platform``.

The hub's settings are traitlets of the feature that owns them (``c.SelfService.restart_timeout``);
``platform.settings(SelfService)`` is the hub's one instance of such a class. :class:`Platform`
is created on first use, after JupyterHub has loaded every config file, so it always sees the
final configuration.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from traitlets import Instance, List, Type
from traitlets.config import SingletonConfigurable

from . import naming
from . import settings as settings_mod
from .hubsettings import StellarsHub
from .runtime import ContainerRuntime
from .storage import Stores
from .web.locks import UserLocks

log = logging.getLogger("JupyterHub.stellars")


class Platform(SingletonConfigurable):
    """The platform's objects for this hub process (one hub per process, like JupyterHub's app)."""

    runtime_class = Type(
        "stellars_hub.backends.docker.runtime.DockerRuntime",
        klass=ContainerRuntime,
        config=True,
        help="The container runtime every feature uses (restart, volumes, statistics, GPU probe): the "
        "backend's (JUPYTERHUB_BACKEND). One instance per hub.",
    )
    features: List[Any] = List(
        config=True, help="The features this hub runs, in order (handed in by the config entry point, hubconfig.apply)"
    )
    config_classes: List[Any] = List(
        config=True, help="Every class that owns a setting (handed in by the config entry point, hubconfig.apply)"
    )
    runtime = Instance(ContainerRuntime)  # type: ignore[type-abstract]
    locks = Instance(UserLocks, args=())

    @classmethod
    def current(cls) -> Platform:
        """The hub's platform, created from the hub's final configuration on first use."""
        if not cls.initialized():
            from jupyterhub.app import JupyterHub

            config = JupyterHub.instance().config if JupyterHub.initialized() else None
            cls.instance(config=config)
        return cls.instance()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.settings = settings_mod.load(self.config_classes, config=self.config)  # settings(Labs).image
        self.runtime = self.runtime_class.for_settings(self.settings)
        self.stores = Stores()  # the features' SQLite stores: one object per file
        self.volume_names = naming.VolumeNames()  # the accounts feature gives it the hub's records
        self._shared: dict = {}
        self._hub_id: str | None = None
        self._started = False
        self._background: set[asyncio.Task] = set()  # strong references: the loop keeps only weak ones

    @property
    def data_dir(self) -> Path:
        return Path(self.settings(StellarsHub).data_dir)

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.log"

    HUB_ID_FILE = "hub-id"

    @property
    def hub_id(self) -> str:
        """This hub's id, kept in its data directory (``hub-id``) and put on every lab and lab
        network it makes, so that its start-up sweep removes only what it made (several hubs may
        share one engine or namespace). A data directory restored elsewhere brings it along."""
        if self._hub_id is None:
            path = self.data_dir / self.HUB_ID_FILE
            try:
                found = path.read_text().strip()
            except FileNotFoundError:
                found = ""
            if not found:
                found = secrets.token_hex(8)  # 16 characters: a valid Kubernetes label value
                try:
                    partial = path.with_suffix(".new")
                    partial.write_text(found + "\n")
                    os.replace(partial, path)
                except OSError as exc:  # no data directory (a tool outside a hub): this process only
                    log.warning("No hub id kept in %s (%s): labs made now are not swept at the next start", path, exc)
            self._hub_id = found
        return self._hub_id

    def shared(self, key: str, factory):
        """The hub's one object of a kind a feature keeps (a store, a monitor), made on first use."""
        if key not in self._shared:
            self._shared[key] = factory()
        return self._shared[key]

    # -- lifecycle ---------------------------------------------------------------------------
    async def before_spawn(self, spawner) -> None:
        """Every feature's pre-spawn step, in order (JupyterHub's ``Spawner.pre_spawn_hook``)."""
        for feature in self.features:
            if feature.pre_spawn is not None:
                await _call(feature.pre_spawn, self, spawner)

    async def after_stop(self, spawner) -> None:
        """Every feature's post-stop step (JupyterHub's ``Spawner.post_stop_hook``)."""
        for feature in self.features:
            if feature.post_stop is not None:
                try:
                    await _call(feature.post_stop, self, spawner)
                except Exception:  # the lab is stopped either way; one feature must not hide it
                    log.exception("post_stop of feature %s failed for %s", feature.name, spawner.user.name)

    def begin(self, app) -> None:
        """``start`` as a task the platform holds (the config entry point calls it once the hub's
        web application exists)."""
        self._hold(asyncio.get_running_loop().create_task(self.start(app)))

    def _hold(self, task: asyncio.Task) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def start(self, app) -> None:
        """Once the hub serves requests: every feature's start-up step, then its background work."""
        if self._started:
            return
        self._started = True
        self.runtime.owner = self.hub_id  # its tools carry it from now on (reconcile/tools.py)
        for feature in self.features:
            if feature.on_start is not None:
                await _call(feature.on_start, self, app)
        loop = asyncio.get_running_loop()
        for feature in self.features:
            for work in feature.background:
                self._hold(loop.create_task(self._run_background(feature.name, work, app)))
        from .gcpause import freeze_startup_heap

        freeze_startup_heap()  # full GC passes: 140 ms -> 2 ms of stopped event loop

    async def _run_background(self, name: str, work, app) -> None:
        try:
            await work(self, app)
        except asyncio.CancelledError:
            raise
        except Exception:  # said once; the hub keeps serving without it
            log.exception("background work of feature %s ended with an error", name)

    async def stop(self) -> None:
        """End the background work (a hub in a test process, or one shutting down)."""
        tasks = [t for t in self._background if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.stores.close()

    def readiness_warnings(self, detailed: bool = False) -> dict[str, str]:
        """What the features see coming (a full host, no lab networks left): /hub/readiness
        shows it while the hub stays ready; ``detailed`` for callers who may read the hub's
        settings (see ``Feature.readiness``)."""
        found: dict[str, str] = {}
        for feature in self.features:
            if feature.readiness is not None:
                try:
                    found.update(feature.readiness(self, detailed))
                except Exception:  # a warning less; the probe itself still answers
                    log.exception("readiness of feature %s failed", feature.name)
        return found

    async def user_renamed(self, old: str, new: str) -> list[str]:
        """Every feature's records follow the rename; the features whose step failed."""
        return await self._each("on_user_renamed", old, new)

    async def user_deleted(self, name: str) -> list[str]:
        """Every feature drops the user's records; the features whose step failed."""
        return await self._each("on_user_deleted", name)

    async def _each(self, hook: str, *args) -> list[str]:
        failed = []
        for feature in self.features:
            try:
                await self.run_hook(feature, hook, *args)
            except Exception:  # one feature's failure must not hide the others' records
                log.exception("%s of feature %s failed for %s", hook, feature.name, args)
                failed.append(feature.name)
        return failed

    async def run_hook(self, feature, hook: str, *args) -> None:
        """One feature's hook (``on_user_deleted``, ...), if it has one."""
        fn = getattr(feature, hook)
        if fn is not None:
            await _call(fn, self, *args)


async def _call(fn, *args):
    """Run a hook on the hub's loop (it may read the hub's ORM session); a hook that does file
    or engine work returns an awaitable that runs it off the loop."""
    result = fn(*args)
    if inspect.isawaitable(result):
        return await result
    return result

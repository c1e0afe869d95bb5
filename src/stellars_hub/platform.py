"""What the platform keeps once per hub: its settings, its container runtime, its locks and the
lifecycle hooks of its features.

The hub's settings are traitlets of the feature that owns them (``c.SelfService.restart_timeout``);
``platform.settings(SelfService)`` is the hub's one instance of such a class. :class:`Platform`
is created on first use, after JupyterHub has loaded every config file, so it always sees the
final configuration.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

from traitlets import Instance, Type
from traitlets.config import Configurable, SingletonConfigurable

from . import settings as settings_mod
from .hubsettings import StellarsHub
from .runtime import ContainerRuntime
from .web.locks import UserLocks

log = logging.getLogger("JupyterHub.stellars")


def configurables() -> list[type[Configurable]]:
    """Every class that owns a setting, in the order of their settings' categories (the README
    table, the Settings page, --help-all)."""
    from .access.config import LabAccess
    from .accounts.config import Accounts
    from .activity.config import ActivityMonitor
    from .admin.config import Branding
    from .backends.kubernetes.settings import Kubernetes
    from .backups.config import Backups
    from .batch.config import Batch
    from .lab.config import Gpu, Labs, NamedServers
    from .notifications.config import Notifications
    from .policies.config import GroupPolicies
    from .selfservice.config import SelfService
    from .session.config import IdleCuller
    from .usage.config import Usage

    return [
        StellarsHub,
        Accounts,
        Labs,
        GroupPolicies,
        Gpu,
        SelfService,
        Notifications,
        IdleCuller,
        ActivityMonitor,
        Branding,
        Usage,
        Batch,
        Backups,
        LabAccess,
        NamedServers,
        Kubernetes,
        Platform,
    ]


class Platform(SingletonConfigurable):
    """The platform's objects for this hub process (one hub per process, like JupyterHub's app)."""

    runtime_class = Type(
        "stellars_hub.backends.docker.runtime.DockerRuntime",
        klass=ContainerRuntime,
        config=True,
        help="The container runtime every feature uses (restart, volumes, statistics, GPU probe): the "
        "backend's (JUPYTERHUB_BACKEND). One instance per hub.",
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
        self.settings = settings_mod.load(configurables(), config=self.config)  # settings(Labs).image
        self.runtime = self.runtime_class.for_settings(self.settings)
        from .features import FEATURES

        self._features = list(FEATURES)
        self._shared: dict = {}
        self._started = False

    @property
    def data_dir(self) -> Path:
        return Path(self.settings(StellarsHub).data_dir)

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.log"

    def shared(self, key: str, factory):
        """The hub's one object of a kind a feature keeps (a store, a monitor), made on first use."""
        if key not in self._shared:
            self._shared[key] = factory()
        return self._shared[key]

    # -- lifecycle ---------------------------------------------------------------------------
    async def before_spawn(self, spawner) -> None:
        """Every feature's pre-spawn step, in order (JupyterHub's ``Spawner.pre_spawn_hook``)."""
        for feature in self._features:
            if feature.pre_spawn is not None:
                await _call(feature.pre_spawn, self, spawner)

    async def after_stop(self, spawner) -> None:
        """Every feature's post-stop step (JupyterHub's ``Spawner.post_stop_hook``)."""
        for feature in self._features:
            if feature.post_stop is not None:
                try:
                    await _call(feature.post_stop, self, spawner)
                except Exception:  # the lab is stopped either way; one feature must not hide it
                    log.exception("post_stop of feature %s failed for %s", feature.name, spawner.user.name)

    async def start(self, app) -> None:
        """Once the hub serves requests: every feature's background work."""
        if self._started:
            return
        self._started = True
        for feature in self._features:
            if feature.on_start is not None:
                await _call(feature.on_start, self, app)
        from .gcpause import freeze_startup_heap

        freeze_startup_heap()  # full GC passes: 140 ms -> 2 ms of stopped event loop

    async def user_renamed(self, old: str, new: str) -> None:
        await self._each("on_user_renamed", old, new)

    async def user_deleted(self, name: str) -> None:
        await self._each("on_user_deleted", name)

    async def _each(self, hook: str, *args) -> None:
        for feature in self._features:
            fn = getattr(feature, hook)
            if fn is None:
                continue
            try:
                await _call(fn, self, *args)
            except Exception:  # one feature's failure must not hide the others' records
                log.exception("%s of feature %s failed for %s", hook, feature.name, args)


async def _call(fn, *args):
    """Run a hook on the hub's loop (it may read the hub's ORM session); a hook that does file
    or engine work returns an awaitable that runs it off the loop."""
    result = fn(*args)
    if inspect.isawaitable(result):
        return await result
    return result

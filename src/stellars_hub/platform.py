"""What the platform keeps once per hub: its settings, its container runtime, its locks and the
lifecycle hooks of its features.

The hub's settings are traitlets of the feature that owns them (``c.SelfService.restart_timeout``);
the hub-wide ones and the labs' are here. :class:`Platform` is created on first use, after
JupyterHub has loaded every config file, so it always sees the final configuration.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

from traitlets import Instance, Type
from traitlets.config import Configurable, SingletonConfigurable

from . import settings as settings_mod
from .runtime import ContainerRuntime, DockerRuntime
from .settings import setting
from .web.locks import UserLocks

log = logging.getLogger("JupyterHub.stellars")


class StellarsHub(Configurable):
    """Hub-wide settings: the administrator, URLs and ports, TLS and transport, where data lives."""

    admin_user = setting("JUPYTERHUB_ADMIN")
    admin_password = setting("JUPYTERHUB_ADMIN_PASSWORD")
    base_url = setting("JUPYTERHUB_BASE_URL")
    hub_host = setting("JUPYTERHUB_HUB_HOST")
    hub_port = setting("JUPYTERHUB_HUB_PORT")
    subdomain_host = setting("JUPYTERHUB_SUBDOMAIN_HOST")
    ssl_enabled = setting("JUPYTERHUB_SSL_ENABLED")
    ssl_cert = setting("JUPYTERHUB_SSL_CERT")
    ssl_key = setting("JUPYTERHUB_SSL_KEY")
    data_dir = setting("JUPYTERHUB_DATA_DIR")
    backend = setting("JUPYTERHUB_BACKEND")
    db_url = setting("JUPYTERHUB_DB_URL")
    db_sqlite_wal = setting("JUPYTERHUB_DB_SQLITE_WAL")
    audit_log_max_mb = setting("JUPYTERHUB_AUDIT_LOG_MAX_MB")
    audit_log_keep = setting("JUPYTERHUB_AUDIT_LOG_KEEP")
    public_scheme = setting("JUPYTERHUB_PUBLIC_SCHEME")
    public_url = setting("JUPYTERHUB_PUBLIC_URL")
    forwarded_hops = setting("JUPYTERHUB_FORWARDED_HOPS")


class Labs(Configurable):
    """What every user's lab runs and receives."""

    image = setting("JUPYTERHUB_NOTEBOOK_IMAGE")
    network_name = setting("JUPYTERHUB_NETWORK_NAME")
    network_isolation = setting("JUPYTERHUB_LAB_NETWORK_ISOLATION")
    subnet_pool = setting("JUPYTERHUB_LAB_SUBNET_POOL")
    service_mlflow = setting("JUPYTERHUB_SERVICE_MLFLOW")
    service_resources_monitor = setting("JUPYTERHUB_SERVICE_RESOURCES_MONITOR")
    service_tensorboard = setting("JUPYTERHUB_SERVICE_TENSORBOARD")
    tf_cpp_min_log_level = setting("TF_CPP_MIN_LOG_LEVEL")
    memory_limit = setting("JUPYTERHUB_LAB_MEMORY_LIMIT")
    cpu_limit = setting("JUPYTERHUB_LAB_CPU_LIMIT")
    pids_limit = setting("JUPYTERHUB_LAB_PIDS_LIMIT")
    concurrent_spawn_limit = setting("JUPYTERHUB_CONCURRENT_SPAWN_LIMIT")
    starts_at_once = setting("JUPYTERHUB_LAB_STARTS_AT_ONCE")
    cpu_shares = setting("JUPYTERHUB_LAB_CPU_SHARES")
    max_labs = setting("JUPYTERHUB_MAX_LABS")


class NamedServers(Configurable):
    """More than one lab per user (JupyterHub's named servers), each with its own volumes."""

    enabled = setting("JUPYTERHUB_NAMED_SERVERS")
    limit = setting("JUPYTERHUB_NAMED_SERVERS_LIMIT")
    shared_home = setting("JUPYTERHUB_NAMED_SERVERS_SHARED_HOME")


def configurables() -> list[type[Configurable]]:
    """Every class that owns a setting, in the table's order (for --help-all and the tests)."""
    from .access.config import LabAccess
    from .accounts.config import Accounts
    from .activity.config import ActivityMonitor
    from .admin.config import Branding, Gpu
    from .backups.config import Backups
    from .batch.config import Batch
    from .kube.config import Kubernetes
    from .notifications.config import Notifications
    from .policies.config import GroupPolicies
    from .selfservice.config import SelfService
    from .session.config import IdleCuller
    from .usage.config import Usage

    classes = {
        c.__name__: c
        for c in (
            StellarsHub,
            Labs,
            Accounts,
            Gpu,
            Branding,
            SelfService,
            Notifications,
            IdleCuller,
            ActivityMonitor,
            GroupPolicies,
            Kubernetes,
            NamedServers,
            Usage,
            Batch,
            Backups,
            LabAccess,
        )
    }
    ordered = dict.fromkeys(s.owner for s in settings_mod.SETTINGS)
    return [classes[name] for name in ordered] + [Platform]


class Platform(SingletonConfigurable):
    """The platform's objects for this hub process (one hub per process, like JupyterHub's app)."""

    runtime_class = Type(
        DockerRuntime,
        klass=ContainerRuntime,
        config=True,
        help="The container runtime every feature uses (restart, volumes, statistics, GPU probe). "
        "One instance per hub.",
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
        self.settings = settings_mod.load(config=self.config)
        self.runtime = self.runtime_class.for_settings(self.settings)
        from .features import FEATURES

        self._features = list(FEATURES)
        self._shared: dict = {}
        self._started = False

    @property
    def data_dir(self) -> Path:
        return Path(self.settings["JUPYTERHUB_DATA_DIR"])

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.log"

    def settings_of(self, cls: type[Configurable]) -> Configurable:
        """The feature's Configurable, read from the hub's configuration."""
        return cls(parent=self)

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

    def readiness_warnings(self) -> dict[str, str]:
        """What the features see coming (a full host, no lab networks left): /hub/readiness
        shows it while the hub stays ready."""
        found: dict[str, str] = {}
        for feature in self._features:
            if feature.readiness is not None:
                found.update(feature.readiness(self))
        return found

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

"""apply(c): the platform's JupyterHub configuration, derived from its settings.

The settings are read from ``c`` itself (a site file loaded before, ``c.SelfService.*`` and the
like) and the environment. ``apply`` only fills in what ``c`` leaves unset and merges its lists
and dicts into the site's, so it works after a site file (``stellars-hub run --config``), before
a site's own lines (the repository's ``jupyterhub_config.py`` shim), and twice without harm.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from tornado.web import StaticFileHandler

from . import datadir, hubdb, naming
from . import settings as settings_mod
from .accounts import config as accounts_config
from .backends import BACKENDS
from .features import FEATURES, configurables
from .hubsettings import StellarsHub
from .lab.config import Labs, NamedServers
from .platform import Platform
from .web import scopes, transport

PACKAGE_DIR = Path(__file__).parent
log = logging.getLogger("JupyterHub.stellars")


def load_or_exit(env=None, config=None, features=FEATURES) -> settings_mod.Settings:
    try:
        return settings_mod.load(configurables(features), env, config=config)
    except settings_mod.ConfigError as exc:
        print(f"stellars-hub: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def setdefault(section, name: str, value) -> None:
    """Set a trait unless the configuration already sets it."""
    if name not in section:
        section[name] = value


def extend(section, name: str, items) -> None:
    """Add to a list trait what it does not hold yet (the site's entries come first)."""
    current = list(section[name]) if name in section else []
    section[name] = current + [item for item in items if item not in current]


def merge(section, name: str, values: dict) -> None:
    """Add to a dict trait; the site's own keys win."""
    current = dict(section[name]) if name in section else {}
    section[name] = {**values, **current}


async def before_spawn(spawner) -> None:
    """``Spawner.pre_spawn_hook``: every feature's step before a lab starts."""
    await Platform.current().before_spawn(spawner)


async def after_stop(spawner) -> None:
    """``Spawner.post_stop_hook``: every feature's step after a lab stopped."""
    await Platform.current().after_stop(spawner)


def apply(c, env=None, features=FEATURES) -> settings_mod.Settings:
    s = load_or_exit(env, config=c, features=features)
    site, labs, named = s(StellarsHub), s(Labs), s(NamedServers)
    data = Path(site.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    try:
        datadir.open_for_hub(data)  # a newer release's data is refused before anything opens it
    except datadir.NewerData as exc:
        print(f"stellars-hub: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    host_net = labs.network_name == "host"

    hub = c.JupyterHub
    setdefault(hub, "base_url", site.base_url)
    setdefault(hub, "cookie_secret_file", str(data / "jupyterhub_cookie_secret"))
    setdefault(hub, "db_url", site.db_url or f"sqlite:///{data / 'jupyterhub.sqlite'}")
    if site.db_sqlite_wal:
        hubdb.use_wal(hub.db_url)
    hubdb.guard(hub.db_url)  # a bounded lock wait; 503/507 with the reason instead of a bare 500
    setdefault(hub, "hub_port", site.hub_port)
    setdefault(hub, "hub_ip", "127.0.0.1" if host_net else "0.0.0.0")
    setdefault(hub, "hub_connect_ip", "127.0.0.1" if host_net else site.hub_host)
    setdefault(hub, "cleanup_servers", False)  # labs keep running across hub restarts
    setdefault(c.ConfigurableHTTPProxy, "pid_file", str(data / "jupyterhub-proxy.pid"))
    if site.subdomain_host:
        setdefault(hub, "subdomain_host", site.subdomain_host)  # each lab on its own origin
    elif "subdomain_host" not in hub:
        log.warning(
            "JUPYTERHUB_SUBDOMAIN_HOST is off: every lab is served from the hub's own origin, so a "
            "page a user's lab serves runs with the hub identity of whoever opens it (an admin included). "
            "Use per-user subdomains unless this site has a single name."
        )
    setdefault(hub, "concurrent_spawn_limit", labs.concurrent_spawn_limit)
    if site.ssl_enabled:
        for name, path in (("JUPYTERHUB_SSL_CERT", site.ssl_cert), ("JUPYTERHUB_SSL_KEY", site.ssl_key)):
            if not Path(path).is_file():
                print(
                    f"stellars-hub: {name}: file {path} does not exist (JUPYTERHUB_SSL_ENABLED=1 needs it)",
                    file=sys.stderr,
                )
                raise SystemExit(2)
        setdefault(hub, "ssl_cert", site.ssl_cert)
        setdefault(hub, "ssl_key", site.ssl_key)

    accounts_config.configure(c, s, data, setdefault)
    # the backend's spawner and runtime; the spawner reads the labs' settings (c.Labs, c.Gpu)
    # itself: see LabSpawnerMixin's defaults
    BACKENDS[site.backend](c, s, setdefault)
    # the platform is made later (after every config file): it gets its features and settings here
    setdefault(c.Platform, "features", list(features))
    setdefault(c.Platform, "config_classes", configurables(features))
    setdefault(c.Spawner, "pre_spawn_hook", before_spawn)
    setdefault(c.Spawner, "post_stop_hook", after_stop)
    # named servers: each its own container and volumes (jupyterlab-<name>--<server>_*)
    setdefault(hub, "allow_named_servers", named.enabled)
    setdefault(hub, "named_server_limit_per_user", named.limit)

    extend(hub, "template_paths", [str(PACKAGE_DIR / "templates")])
    merge(hub, "custom_scopes", {k: v for f in features for k, v in f.scopes.items()})
    _add_user_scopes(hub, [scope for f in features for scope in f.user_scopes])
    static = (r"/stellars/static/(.*)", StaticFileHandler, {"path": str(PACKAGE_DIR / "static")})
    extend(hub, "extra_handlers", [static] + [h for f in features for h in f.handlers])
    extend(c.StellarsAuthenticator, "priority_handlers", [h for f in features for h in f.priority_handlers])
    template_vars = {
        "stellars_names": naming.TemplateNames(),
        "stellars_nav": sorted((n for f in features for n in f.nav), key=lambda n: n["order"]),
    }
    for feature in features:
        if feature.template_vars is not None:
            template_vars.update(feature.template_vars(s))
        if feature.configure is not None:
            feature.configure(c, s, setdefault)
    merge(hub, "template_vars", template_vars)
    transport.configure(c, s, setdefault)  # Secure cookies when users reach the hub over HTTPS
    _start_with_hub()
    return s


def _add_user_scopes(hub, user_scopes: list[str]) -> None:
    """Every user holds the features' filtered scopes on themselves: JupyterHub's ``user`` role,
    extended (the site's own ``user`` role, when it defines one, is extended instead)."""
    roles = list(hub.load_roles) if "load_roles" in hub else []
    role = next((r for r in roles if r.get("name") == "user"), None)
    if role is None:
        roles += scopes.roles(user_scopes)
    else:
        role["scopes"] = list(role.get("scopes", [])) + [s for s in user_scopes if s not in role.get("scopes", [])]
    hub.load_roles = roles


def _start_with_hub() -> None:
    """JupyterHub runs config files inside its event loop: once its web application exists (the
    database, users and servers are loaded by then), the platform starts its features' work."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return  # not inside a starting hub (stellars-hub check, unit tests)
    from jupyterhub.app import JupyterHub

    if not JupyterHub.initialized():
        return

    def when_ready() -> None:  # the loop holds a timer's callback until it runs
        app = JupyterHub.instance()
        if getattr(app, "tornado_application", None) is None:
            loop.call_later(0.2, when_ready)
        else:
            Platform.current().begin(app)

    loop.call_soon(when_ready)

"""apply(c): the whole JupyterHub configuration of the platform, derived from the settings."""

from __future__ import annotations

import sys
from pathlib import Path

from tornado.web import StaticFileHandler

from . import naming
from . import settings as settings_mod
from .access import routes as access_routes
from .accounts import config as accounts_config
from .accounts import routes as accounts_routes
from .activity import routes as activity_routes
from .backups import routes as backups_routes
from .batch import routes as batch_routes
from .admin import hub as admin_hub
from .admin import routes as admin_routes
from .selfservice import routes as selfservice_routes
from .notifications import routes as notifications_routes
from .session import hub as session_hub
from .session import routes as session_routes
from .spawner import StellarsSpawner
from .usage import routes as usage_routes
from .web import scopes

# Each feature's routes module: SCOPES (custom scopes), USER_SCOPES (granted to every user on
# themselves), NAV (navigation entries), handlers(settings).
FEATURES = (
    accounts_routes, selfservice_routes, admin_routes, session_routes, activity_routes, notifications_routes,
    usage_routes, batch_routes, backups_routes, access_routes,
)

PACKAGE_DIR = Path(__file__).parent


def lab_environment(s: settings_mod.Settings) -> dict[str, str]:
    """What every lab receives besides JupyterHub's own variables."""
    flag = lambda name: "1" if s[name] else "0"  # noqa: E731
    return {
        "JUPYTERHUB_SERVICE_MLFLOW": flag("JUPYTERHUB_SERVICE_MLFLOW"),
        "JUPYTERHUB_SERVICE_RESOURCES_MONITOR": flag("JUPYTERHUB_SERVICE_RESOURCES_MONITOR"),
        "JUPYTERHUB_SERVICE_TENSORBOARD": flag("JUPYTERHUB_SERVICE_TENSORBOARD"),
        "TENSORBOARD_LOGDIR": "/tmp/tensorboard/logs",
        "MLFLOW_TRACKING_URI": "http://localhost:5000",
        "MLFLOW_PORT": "5000",
        "MLFLOW_HOST": "0.0.0.0",
        "MLFLOW_WORKERS": "1",
        "TF_CPP_MIN_LOG_LEVEL": s["TF_CPP_MIN_LOG_LEVEL"],
    }


def load_or_exit(env=None) -> settings_mod.Settings:
    try:
        return settings_mod.load(env)
    except settings_mod.ConfigError as exc:
        print(f"stellars-hub: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def run_before_spawn(steps):
    """One Spawner.pre_spawn_hook running every feature's step in order (each may be async)."""

    async def pre_spawn_hook(spawner):
        for step in steps:
            result = step(spawner)
            if hasattr(result, "__await__"):
                await result

    return pre_spawn_hook


def apply(c, env=None) -> settings_mod.Settings:
    s = load_or_exit(env)
    data = Path(s["JUPYTERHUB_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    host_net = s["JUPYTERHUB_NETWORK_NAME"] == "host"

    hub = c.JupyterHub
    hub.base_url = s["JUPYTERHUB_BASE_URL"]
    hub.cookie_secret_file = str(data / "jupyterhub_cookie_secret")
    hub.db_url = s["JUPYTERHUB_DB_URL"] or f"sqlite:///{data / 'jupyterhub.sqlite'}"
    hub.hub_port = s["JUPYTERHUB_HUB_PORT"]
    hub.hub_ip = "127.0.0.1" if host_net else "0.0.0.0"
    hub.hub_connect_ip = "127.0.0.1" if host_net else s["JUPYTERHUB_HUB_HOST"]
    hub.cleanup_servers = False  # labs keep running across hub restarts
    c.ConfigurableHTTPProxy.pid_file = str(data / "jupyterhub-proxy.pid")
    if s["JUPYTERHUB_SSL_ENABLED"]:
        for name in ("JUPYTERHUB_SSL_CERT", "JUPYTERHUB_SSL_KEY"):
            if not Path(s[name]).is_file():
                print(f"stellars-hub: {name}: file {s[name]} does not exist "
                      "(JUPYTERHUB_SSL_ENABLED=1 needs it)", file=sys.stderr)
                raise SystemExit(2)
        hub.ssl_cert = s["JUPYTERHUB_SSL_CERT"]
        hub.ssl_key = s["JUPYTERHUB_SSL_KEY"]

    accounts_config.configure(c, s, data)

    hub.spawner_class = StellarsSpawner
    sp = c.StellarsSpawner
    sp.image = s["JUPYTERHUB_NOTEBOOK_IMAGE"]
    sp.network_name = s["JUPYTERHUB_NETWORK_NAME"]
    sp.use_internal_ip = True  # labs are reached on their network (or loopback), never via published ports
    sp.lab_environment = lab_environment(s)
    sp.gpu_enabled = s["JUPYTERHUB_GPU_ENABLED"] == "1"  # 2: decided per spawn by the detection
    sp.default_url = "/lab"
    sp.start_timeout = 180
    sp.http_timeout = 120
    # named servers: each its own container and volumes (jupyterlab-<name>--<server>_*)
    hub.allow_named_servers = bool(s["JUPYTERHUB_NAMED_SERVERS"])
    hub.named_server_limit_per_user = s["JUPYTERHUB_NAMED_SERVERS_LIMIT"]
    sp.shared_home = bool(s["JUPYTERHUB_NAMED_SERVERS_SHARED_HOME"])

    # settings page, logo, built-in Docker-privilege groups, GPU decision, health, footer
    admin = admin_hub.configure(c, s)
    c.Spawner.pre_spawn_hook = run_before_spawn([admin.pre_spawn, usage_routes.spawn_step(s)])
    c.Spawner.oauth_client_allowed_scopes = list(access_routes.CLIENT_ALLOWED_SCOPES)  # admin access by consent
    c.Spawner.post_stop_hook = usage_routes.post_stop_hook(s)  # usage: server stops

    hub.template_paths = [str(PACKAGE_DIR / "templates")]
    hub.custom_scopes = {k: v for f in FEATURES for k, v in f.SCOPES.items()}
    hub.load_roles = scopes.roles([u for f in FEATURES for u in f.USER_SCOPES])
    static = (r"/stellars/static/(.*)", StaticFileHandler, {"path": str(PACKAGE_DIR / "static")})
    hub.extra_handlers = [static] + [h for f in FEATURES for h in f.handlers(s)]
    hub.template_vars = {
        "stellars_names": naming.TemplateNames(),
        "stellars_nav": sorted((n for f in FEATURES for n in getattr(f, "NAV", ())), key=lambda n: n["order"]),
        **admin.template_vars,
    }
    session_hub.configure(c, s)  # the idle-culler service and its role
    hub.tornado_settings = {
        "stellars_settings": s,
        "stellars_audit_path": str(data / "audit.log"),
    }
    activity_routes.install(s)  # sampler on the hub's loop, rename/delete hooks, /hub/metrics
    notifications_routes.setup(s)
    usage_routes.install(s)  # usage recorder on the hub's loop
    backups_routes.install(s)  # the backup schedule
    access_routes.install(s)  # ends admin lab access when it expires
    return s

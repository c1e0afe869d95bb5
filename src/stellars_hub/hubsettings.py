"""The hub-wide settings (``c.StellarsHub.*``): the administrator, URLs and ports, TLS and
transport, where data lives, the labs' backend. Read by the config entry point (hubconfig and
what it calls), the platform (data directory) and the handlers (audit log, origin warning). A
module of its own, below the platform and the features, so that every layer may read it."""

from __future__ import annotations

from .settings import Bool, DatabaseURL, Enum, Int, SettingsGroup, SubdomainHost, Unicode, URLPrefix


class StellarsHub(SettingsGroup):
    """Hub-wide settings: the administrator, URLs and ports, TLS and transport, where data lives."""

    category = "Hub"

    admin_user = Unicode(
        "admin",
        help="User name of the hub's administrator: never open to signup, cannot be renamed, deleted, un-authorised or demoted",
    ).tag(config=True, env="JUPYTERHUB_ADMIN")
    admin_password = Unicode(
        "",
        allow_empty=True,
        help="The administrator's password at the first start; empty: a generated one is written to <data dir>/initial-admin-password (mode 0600)",
    ).tag(config=True, env="JUPYTERHUB_ADMIN_PASSWORD", secret=True)
    base_url = URLPrefix("/jupyterhub", help="URL prefix the hub is served under").tag(
        config=True, env="JUPYTERHUB_BASE_URL"
    )
    hub_host = Unicode("jupyterhub", help="Host name labs use to reach the hub API (127.0.0.1 on host networking)").tag(
        config=True, env="JUPYTERHUB_HUB_HOST"
    )
    hub_port = Int(8080, min=1, max=65535, help="Port of the hub API that labs connect to").tag(
        config=True, env="JUPYTERHUB_HUB_PORT"
    )
    subdomain_host = SubdomainHost(
        "https://localhost",
        help="Public URL of the hub's domain; each lab is served at <user>.<that domain>, its own origin, so a page a user's lab serves cannot act with a visitor's hub identity (off or empty: labs share the hub's origin, for single-name sites only)",
    ).tag(config=True, env="JUPYTERHUB_SUBDOMAIN_HOST")
    ssl_enabled = Bool(False, help="1: the hub serves TLS itself (normally TLS ends at the reverse proxy)").tag(
        config=True, env="JUPYTERHUB_SSL_ENABLED"
    )
    ssl_cert = Unicode("/data/certs/server.crt", help="TLS certificate file used when JUPYTERHUB_SSL_ENABLED=1").tag(
        config=True, env="JUPYTERHUB_SSL_CERT"
    )
    ssl_key = Unicode("/data/certs/server.key", help="TLS private key file used when JUPYTERHUB_SSL_ENABLED=1").tag(
        config=True, env="JUPYTERHUB_SSL_KEY"
    )
    data_dir = Unicode("/data", help="Directory holding the cookie secret and the SQLite databases").tag(
        config=True, env="JUPYTERHUB_DATA_DIR"
    )
    db_url = DatabaseURL("", help="Hub database URL; empty means SQLite in the data directory").tag(
        config=True, env="JUPYTERHUB_DB_URL", secret=True
    )
    db_sqlite_wal = Bool(
        True,
        help="A SQLite hub database keeps a write-ahead log and reaches the disk at checkpoints, not at every commit (JupyterHub commits on its event loop for every token, login and activity report); a crash of the hub loses nothing, a power cut at most the last commits. Turn off when the data directory is on a network file system",
    ).tag(config=True, env="JUPYTERHUB_DB_SQLITE_WAL")
    audit_log_max_mb = Int(
        10, min=1, max=10000, help="Size at which the audit log (audit.log in the data directory) rotates"
    ).tag(config=True, env="JUPYTERHUB_AUDIT_LOG_MAX_MB", unit="MB")
    audit_log_keep = Int(
        5, min=1, max=1000, help="Rotated audit log files kept besides the current one (audit.log.1 ...)"
    ).tag(config=True, env="JUPYTERHUB_AUDIT_LOG_KEEP")
    public_scheme = Enum(
        ("https", "http"),
        "https",
        help="How users reach the hub: https (behind the compose stack's Traefik; every hub cookie is marked Secure) or http (plain, e.g. a local test hub)",
    ).tag(config=True, env="JUPYTERHUB_PUBLIC_SCHEME")
    public_url = Unicode(
        "",
        allow_empty=True,
        help="The hub's public URL, e.g. https://hub.example.org/jupyterhub/ (JupyterHub's public_url; its scheme overrides JUPYTERHUB_PUBLIC_SCHEME); empty: taken from each request",
    ).tag(config=True, env="JUPYTERHUB_PUBLIC_URL")
    trusted_proxies = Unicode(
        "traefik",
        allow_empty=True,
        help="Reverse proxies in front of the hub's own proxy whose X-Forwarded-For entries are believed, to find the client address for login limits: comma-separated addresses, networks (CIDR) or host names (traefik: the compose stack's; the hub's own proxy is always trusted; empty: clients reach the hub's proxy directly)",
    ).tag(config=True, env="JUPYTERHUB_TRUSTED_PROXIES")
    backend = Enum(
        ("docker", "kubernetes"),
        "docker",
        help="Where labs run: docker (this host's engine) or kubernetes (pods through KubeSpawner)",
    ).tag(config=True, env="JUPYTERHUB_BACKEND", category="Kubernetes")

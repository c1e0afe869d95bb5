"""The one table of every operator setting, and the traitlets built from it.

Each row is one ``JUPYTERHUB_*`` variable and the traitlet of the feature that owns it
(``trait="SelfService.restart_timeout"``). The traitlet's default is the variable's value (or the
table's default), so a site's ``jupyterhub_config.py`` overrides the environment, and
``stellars-hub --help-all`` lists every setting with its variable. The README table, the Settings
page, ``stellars-hub check`` and the compose defaults all derive from or are checked against this
table. A bad value raises :class:`ConfigError` naming the variable (or trait) and what it allows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from traitlets import TraitError, TraitType, Undefined


class ConfigError(Exception):
    """One or more settings are invalid; ``problems`` holds one line per setting."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    category: str
    description: str
    kind: str = "str"  # str | int | number | bool | choice | base_url | uri | db_url
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    secret: bool = False
    optional: bool = False  # an empty value is allowed (and means "derived")
    unit: str = ""
    trait: str = ""  # "Class.trait" of the Configurable that owns it

    @property
    def owner(self) -> str:
        return self.trait.split(".", 1)[0]

    @property
    def trait_name(self) -> str:
        return self.trait.split(".", 1)[1]

    def allowed(self) -> str:
        if self.kind == "bool":
            return "0 or 1"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "int":
            lo = "" if self.minimum is None else str(self.minimum)
            hi = "" if self.maximum is None else str(self.maximum)
            span = f"{lo}..{hi}" if hi else f">= {lo}" if lo else "any"
            return f"a whole number {span}" + (f" ({self.unit})" if self.unit else "")
        if self.kind == "number":
            return f"a number from {self.minimum} to {self.maximum}" + (f" ({self.unit})" if self.unit else "")
        if self.kind == "base_url":
            return "a URL path such as /jupyterhub (/, empty or unset mean the root)"
        if self.kind == "subdomain_host":
            return "off (or empty), or an http(s):// URL without a path, such as https://example.org or https://localhost:8443"
        if self.kind == "uri":
            return "a file:// path or an http(s):// URL"
        if self.kind == "db_url":
            return "empty (SQLite in the data directory) or a sqlite:// or postgresql:// URL"
        if self.kind == "subnets":
            return "IPv4 networks in CIDR form, comma-separated, each /28 or larger"
        return "any text" if self.optional else "a non-empty text"


SOURCES = ("default", "environment", "config file")


@dataclass(frozen=True)
class Settings:
    """Effective, validated values keyed by variable name, with where each came from."""

    values: Mapping[str, Any]
    raw: Mapping[str, str] = field(default_factory=dict)  # the value as text, as a variable would hold it
    sources: Mapping[str, str] = field(default_factory=dict)  # name -> one of SOURCES

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def source(self, name: str) -> str:
        return self.sources.get(name, "environment" if name in os.environ else "default")

    def rows(self) -> list[dict[str, Any]]:
        """The effective configuration, secrets masked, in table order."""
        rows = []
        for s in SETTINGS:
            value = self.raw.get(s.name, s.default)
            rows.append(
                {
                    "name": s.name,
                    "trait": s.trait,
                    "category": s.category,
                    "description": s.description,
                    "default": s.default,
                    "value": mask(value) if s.secret else value,
                    "allowed": s.allowed(),
                    "secret": s.secret,
                    "source": self.source(s.name),
                }
            )
        return rows


def mask(value: str) -> str:
    return "********" if value else ""


_S = Setting
SETTINGS: tuple[Setting, ...] = (
    # Hub
    _S(
        "JUPYTERHUB_ADMIN",
        "admin",
        "Hub",
        "User name of the hub's administrator: never open to signup, cannot be renamed, deleted, un-authorised or demoted",
        trait="StellarsHub.admin_user",
    ),
    _S(
        "JUPYTERHUB_ADMIN_PASSWORD",
        "",
        "Hub",
        "The administrator's password at the first start; empty: a generated one is written to <data dir>/initial-admin-password (mode 0600)",
        secret=True,
        optional=True,
        trait="StellarsHub.admin_password",
    ),
    _S(
        "JUPYTERHUB_BASE_URL",
        "/jupyterhub",
        "Hub",
        "URL prefix the hub is served under",
        kind="base_url",
        optional=True,
        trait="StellarsHub.base_url",
    ),
    _S(
        "JUPYTERHUB_HUB_HOST",
        "jupyterhub",
        "Hub",
        "Host name labs use to reach the hub API (127.0.0.1 on host networking)",
        trait="StellarsHub.hub_host",
    ),
    _S(
        "JUPYTERHUB_HUB_PORT",
        "8080",
        "Hub",
        "Port of the hub API that labs connect to",
        kind="int",
        minimum=1,
        maximum=65535,
        trait="StellarsHub.hub_port",
    ),
    _S(
        "JUPYTERHUB_SUBDOMAIN_HOST",
        "https://localhost",
        "Hub",
        "Public URL of the hub's domain; each lab is served at <user>.<that domain>, its own origin, so a page a user's lab serves cannot act with a visitor's hub identity (off or empty: labs share the hub's origin, for single-name sites only)",
        kind="subdomain_host",
        optional=True,
        trait="StellarsHub.subdomain_host",
    ),
    _S(
        "JUPYTERHUB_SSL_ENABLED",
        "0",
        "Hub",
        "1: the hub serves TLS itself (normally TLS ends at the reverse proxy)",
        kind="bool",
        trait="StellarsHub.ssl_enabled",
    ),
    _S(
        "JUPYTERHUB_SSL_CERT",
        "/data/certs/server.crt",
        "Hub",
        "TLS certificate file used when JUPYTERHUB_SSL_ENABLED=1",
        trait="StellarsHub.ssl_cert",
    ),
    _S(
        "JUPYTERHUB_SSL_KEY",
        "/data/certs/server.key",
        "Hub",
        "TLS private key file used when JUPYTERHUB_SSL_ENABLED=1",
        trait="StellarsHub.ssl_key",
    ),
    _S(
        "JUPYTERHUB_DATA_DIR",
        "/data",
        "Hub",
        "Directory holding the cookie secret and the SQLite databases",
        trait="StellarsHub.data_dir",
    ),
    _S(
        "JUPYTERHUB_DB_URL",
        "",
        "Hub",
        "Hub database URL; empty means SQLite in the data directory",
        kind="db_url",
        secret=True,
        optional=True,
        trait="StellarsHub.db_url",
    ),
    _S(
        "JUPYTERHUB_DB_SQLITE_WAL",
        "1",
        "Hub",
        "A SQLite hub database keeps a write-ahead log and reaches the disk at checkpoints, not at every commit (JupyterHub commits on its event loop for every token, login and activity report); a crash of the hub loses nothing, a power cut at most the last commits. Turn off when the data directory is on a network file system",
        kind="bool",
        trait="StellarsHub.db_sqlite_wal",
    ),
    _S(
        "JUPYTERHUB_AUDIT_LOG_MAX_MB",
        "10",
        "Hub",
        "Size at which the audit log (audit.log in the data directory) rotates",
        kind="int",
        minimum=1,
        maximum=10000,
        unit="MB",
        trait="StellarsHub.audit_log_max_mb",
    ),
    _S(
        "JUPYTERHUB_AUDIT_LOG_KEEP",
        "5",
        "Hub",
        "Rotated audit log files kept besides the current one (audit.log.1 ...)",
        kind="int",
        minimum=1,
        maximum=1000,
        trait="StellarsHub.audit_log_keep",
    ),
    _S(
        "JUPYTERHUB_PUBLIC_SCHEME",
        "https",
        "Hub",
        "How users reach the hub: https (behind the compose stack's Traefik; every hub cookie is marked Secure) or http (plain, e.g. a local test hub)",
        kind="choice",
        choices=("https", "http"),
        trait="StellarsHub.public_scheme",
    ),
    _S(
        "JUPYTERHUB_PUBLIC_URL",
        "",
        "Hub",
        "The hub's public URL, e.g. https://hub.example.org/jupyterhub/ (JupyterHub's public_url; its scheme overrides JUPYTERHUB_PUBLIC_SCHEME); empty: taken from each request",
        optional=True,
        trait="StellarsHub.public_url",
    ),
    _S(
        "JUPYTERHUB_FORWARDED_HOPS",
        "1",
        "Hub",
        "Reverse proxies in front of the hub's own proxy, to find the client address for login limits in X-Forwarded-For (1: the compose stack's Traefik; 0: clients reach the hub's proxy directly)",
        kind="int",
        minimum=0,
        maximum=5,
        trait="StellarsHub.forwarded_hops",
    ),
    # Accounts
    _S(
        "JUPYTERHUB_SIGNUP_ENABLED",
        "1",
        "Accounts",
        "1: people may sign up and wait for approval; 0: only admins create users",
        kind="bool",
        trait="Accounts.signup_enabled",
    ),
    _S(
        "JUPYTERHUB_AUTOGENERATED_PASSWORD_WORDS",
        "4",
        "Accounts",
        "Words in a generated password for admin-created users",
        kind="int",
        minimum=3,
        maximum=12,
        trait="Accounts.password_words",
    ),
    _S(
        "JUPYTERHUB_AUTOGENERATED_PASSWORD_DELIMITER",
        "-",
        "Accounts",
        "Character(s) joining the words of a generated password",
        trait="Accounts.password_delimiter",
    ),
    _S(
        "JUPYTERHUB_AUTOGENERATED_PASSWORD_TTL",
        "300",
        "Accounts",
        "Seconds a generated password stays visible to admins (kept in memory only, never stored unhashed)",
        kind="int",
        minimum=1,
        maximum=300,
        unit="seconds",
        trait="Accounts.password_ttl",
    ),
    _S(
        "JUPYTERHUB_PASSWORD_MIN_LENGTH",
        "8",
        "Accounts",
        "Minimum length of a password chosen at signup or on Change Password",
        kind="int",
        minimum=1,
        maximum=128,
        trait="Accounts.password_min_length",
    ),
    _S(
        "JUPYTERHUB_PASSWORD_CHECK_COMMON",
        "1",
        "Accounts",
        "1: refuse passwords from NativeAuthenticator's list of common passwords",
        kind="bool",
        trait="Accounts.password_check_common",
    ),
    _S(
        "JUPYTERHUB_LOGIN_MAX_FAILURES",
        "5",
        "Accounts",
        "Failed logins in a row after which a user name is locked out for a while (0 = never)",
        kind="int",
        minimum=0,
        maximum=1000,
        trait="Accounts.login_max_failures",
    ),
    _S(
        "JUPYTERHUB_LOGIN_LOCKOUT_SECONDS",
        "600",
        "Accounts",
        "How long a locked-out user name must wait before the next login attempt",
        kind="int",
        minimum=1,
        maximum=86400,
        unit="seconds",
        trait="Accounts.login_lockout_seconds",
    ),
    _S(
        "JUPYTERHUB_AUTH_RATE_PER_ADDRESS",
        "30",
        "Accounts",
        "Logins, signups and password changes per minute from one client address; more answer 429 with Retry-After",
        kind="int",
        minimum=1,
        maximum=10000,
        trait="Accounts.rate_per_address",
    ),
    _S(
        "JUPYTERHUB_AUTH_RATE_PER_NAME",
        "10",
        "Accounts",
        "Logins, signups and password changes per minute for one user name; more answer 429 with Retry-After",
        kind="int",
        minimum=1,
        maximum=10000,
        trait="Accounts.rate_per_name",
    ),
    # Labs
    _S(
        "JUPYTERHUB_NOTEBOOK_IMAGE",
        "stellars/stellars-jupyterlab-ds:latest",
        "Labs",
        "Image every user's JupyterLab container runs",
        trait="Labs.image",
    ),
    _S(
        "JUPYTERHUB_NETWORK_NAME",
        "jupyterhub_network",
        "Labs",
        "Docker network of the labs; 'host' puts each lab on host networking on its own port",
        trait="Labs.network_name",
    ),
    _S(
        "JUPYTERHUB_LAB_NETWORK_ISOLATION",
        "1",
        "Labs",
        "1: each lab gets its own Docker network <JUPYTERHUB_NETWORK_NAME>-<user> (labs cannot reach each other; the hub joins each); 0: all labs share JUPYTERHUB_NETWORK_NAME",
        kind="bool",
        trait="Labs.network_isolation",
    ),
    _S(
        "JUPYTERHUB_LAB_SUBNET_POOL",
        "10.213.0.0/16",
        "Labs",
        "Addresses of the labs' own networks (JUPYTERHUB_LAB_NETWORK_ISOLATION=1): each lab network takes a /28 of them (larger when named servers need it), so a /16 holds 4096 labs with no engine configuration; keep it clear of your LANs and VPNs",
        kind="subnets",
        trait="Labs.subnet_pool",
    ),
    _S(
        "JUPYTERHUB_SERVICE_MLFLOW",
        "1",
        "Labs",
        "1: the lab starts its MLflow tracking server",
        kind="bool",
        trait="Labs.service_mlflow",
    ),
    _S(
        "JUPYTERHUB_SERVICE_RESOURCES_MONITOR",
        "1",
        "Labs",
        "1: the lab starts its resources monitor",
        kind="bool",
        trait="Labs.service_resources_monitor",
    ),
    _S(
        "JUPYTERHUB_SERVICE_TENSORBOARD",
        "1",
        "Labs",
        "1: the lab starts TensorBoard",
        kind="bool",
        trait="Labs.service_tensorboard",
    ),
    _S(
        "TF_CPP_MIN_LOG_LEVEL",
        "3",
        "Labs",
        "TensorFlow C++ log level passed to labs",
        kind="choice",
        choices=("0", "1", "2", "3"),
        trait="Labs.tf_cpp_min_log_level",
    ),
    _S(
        "JUPYTERHUB_LAB_MEMORY_LIMIT",
        "8192",
        "Labs",
        "Memory of a lab (kernels included) unless a group policy gives more; over it the engine kills a process in the lab, never outside it (0 = no limit)",
        kind="int",
        minimum=0,
        maximum=4194304,
        unit="MiB",
        trait="Labs.memory_limit",
    ),
    _S(
        "JUPYTERHUB_LAB_CPU_LIMIT",
        "4",
        "Labs",
        "CPUs a lab may use at once unless a group policy gives more (0 = no limit)",
        kind="number",
        minimum=0,
        maximum=1024,
        unit="CPUs",
        trait="Labs.cpu_limit",
    ),
    _S(
        "JUPYTERHUB_LAB_PIDS_LIMIT",
        "4096",
        "Labs",
        "Processes and threads a lab may run unless a group policy gives more; stops fork bombs (0 = no limit)",
        kind="int",
        minimum=0,
        maximum=4194304,
        trait="Labs.pids_limit",
    ),
    _S(
        "JUPYTERHUB_POLICY_HOST_PATHS",
        "",
        "Labs",
        "Comma-separated host directories under which group policies may mount host paths into labs (empty: named volumes only)",
        optional=True,
        trait="GroupPolicies.host_paths",
    ),
    _S(
        "JUPYTERHUB_QUOTA_CHECK_INTERVAL",
        "3600",
        "Labs",
        "Seconds between checks of storage use against group quotas (users over quota are warned in JupyterLab at most once a day)",
        kind="int",
        minimum=10,
        maximum=86400,
        unit="seconds",
        trait="GroupPolicies.quota_check_interval",
    ),
    _S(
        "JUPYTERHUB_CONCURRENT_SPAWN_LIMIT",
        "30",
        "Labs",
        "Lab starts in progress at once; more are refused with 429 and the page asks to retry (0 = no limit)",
        kind="int",
        minimum=0,
        maximum=1000,
        trait="Labs.concurrent_spawn_limit",
    ),
    _S(
        "JUPYTERHUB_LAB_STARTS_AT_ONCE",
        "0",
        "Labs",
        "Labs the hub starts at once, from their container's start until they answer; later starts wait their turn, so a class's first labs answer in seconds instead of all at the end (0 = one less than the engine's CPUs, at least one: a CPU stays with the hub and its proxy)",
        kind="int",
        minimum=0,
        maximum=1000,
        trait="Labs.starts_at_once",
    ),
    _S(
        "JUPYTERHUB_LAB_CPU_SHARES",
        "256",
        "Labs",
        "Relative CPU weight of a lab while the CPUs are contended (Docker's cpu_shares; its default 1024 stays the hub's): labs take all idle CPU, but a class of labs starting at once cannot starve the hub (0 = the engine's default)",
        kind="int",
        minimum=0,
        maximum=262144,
        trait="Labs.cpu_shares",
    ),
    _S(
        "JUPYTERHUB_MAX_LABS",
        "0",
        "Labs",
        "Labs (default and named servers, running or starting) the host runs at once; a start past it is refused with a message saying so, before any container is created (0 = as many as the engine's memory holds: its memory less a reserve, divided by what the running labs use on average; on Kubernetes 0 leaves it to the scheduler)",
        kind="int",
        minimum=0,
        maximum=100000,
        trait="Labs.max_labs",
    ),
    # GPU
    _S(
        "JUPYTERHUB_GPU_ENABLED",
        "2",
        "GPU",
        "0 off, 1 on, 2 detect at start-up",
        kind="choice",
        choices=("0", "1", "2"),
        trait="Gpu.enabled",
    ),
    _S(
        "JUPYTERHUB_NVIDIA_IMAGE",
        "nvidia/cuda:13.0.2-base-ubuntu24.04",
        "GPU",
        "Image used to probe for GPUs with nvidia-smi",
        trait="Gpu.nvidia_image",
    ),
    # Self-service
    _S(
        "JUPYTERHUB_RESTART_TIMEOUT",
        "10",
        "Self-service",
        "Seconds a lab gets to stop gracefully on Restart Server",
        kind="int",
        minimum=0,
        maximum=600,
        unit="seconds",
        trait="SelfService.restart_timeout",
    ),
    _S(
        "JUPYTERHUB_RESTART_READY_TIMEOUT",
        "120",
        "Self-service",
        "Seconds to wait for a restarted lab to answer again",
        kind="int",
        minimum=5,
        maximum=3600,
        unit="seconds",
        trait="SelfService.restart_ready_timeout",
    ),
    _S(
        "JUPYTERHUB_SELFSERVICE_RATE_LIMIT",
        "10",
        "Self-service",
        "Restarts and resets allowed per user per minute",
        kind="int",
        minimum=1,
        maximum=1000,
        trait="SelfService.rate_limit",
    ),
    # Notifications
    _S(
        "JUPYTERHUB_NOTIFICATIONS_TIMEOUT",
        "5",
        "Notifications",
        "Seconds each lab gets to accept a broadcast before it counts as not responding",
        kind="int",
        minimum=1,
        maximum=60,
        unit="seconds",
        trait="Notifications.timeout",
    ),
    # Idle culler
    _S(
        "JUPYTERHUB_IDLE_CULLER_ENABLED",
        "0",
        "Idle culler",
        "1: stop labs that stay idle",
        kind="bool",
        trait="IdleCuller.enabled",
    ),
    _S(
        "JUPYTERHUB_IDLE_CULLER_TIMEOUT",
        "86400",
        "Idle culler",
        "Idle time after which a lab is stopped",
        kind="int",
        minimum=10,
        unit="seconds",
        trait="IdleCuller.timeout",
    ),
    _S(
        "JUPYTERHUB_IDLE_CULLER_INTERVAL",
        "600",
        "Idle culler",
        "How often idleness is checked",
        kind="int",
        minimum=1,
        unit="seconds",
        trait="IdleCuller.interval",
    ),
    _S(
        "JUPYTERHUB_IDLE_CULLER_MAX_AGE",
        "0",
        "Idle culler",
        "Stop labs older than this whatever their activity (0 = off)",
        kind="int",
        minimum=0,
        unit="seconds",
        trait="IdleCuller.max_age",
    ),
    _S(
        "JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION",
        "24",
        "Idle culler",
        "Hours a user may extend their session per server start",
        kind="int",
        minimum=0,
        maximum=720,
        unit="hours",
        trait="IdleCuller.max_extension",
    ),
    _S(
        "JUPYTERHUB_IDLE_CULLER_WARNING",
        "900",
        "Idle culler",
        "How long before stopping a lab its user is warned inside JupyterLab (0 = no warning)",
        kind="int",
        minimum=0,
        unit="seconds",
        trait="IdleCuller.warning",
    ),
    _S(
        "JUPYTERHUB_IDLE_CULLER_HOUR_SECONDS",
        "3600",
        "Idle culler",
        "Length of one extension hour; only tests shorten it",
        kind="int",
        minimum=1,
        maximum=3600,
        unit="seconds",
        trait="IdleCuller.hour_seconds",
    ),
    # Activity monitor
    _S(
        "JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL",
        "600",
        "Activity monitor",
        "Seconds between activity samples",
        kind="int",
        minimum=1,
        unit="seconds",
        trait="ActivityMonitor.sample_interval",
    ),
    _S(
        "JUPYTERHUB_ACTIVITYMON_RETENTION_DAYS",
        "7",
        "Activity monitor",
        "Days of samples kept",
        kind="int",
        minimum=1,
        maximum=365,
        unit="days",
        trait="ActivityMonitor.retention_days",
    ),
    _S(
        "JUPYTERHUB_ACTIVITYMON_HALF_LIFE",
        "24",
        "Activity monitor",
        "Half-life of a sample's weight in the activity score",
        kind="int",
        minimum=1,
        maximum=8760,
        unit="hours",
        trait="ActivityMonitor.half_life",
    ),
    _S(
        "JUPYTERHUB_ACTIVITYMON_INACTIVE_AFTER",
        "60",
        "Activity monitor",
        "Minutes without lab activity after which a user counts as idle",
        kind="int",
        minimum=1,
        unit="minutes",
        trait="ActivityMonitor.inactive_after",
    ),
    # Branding
    _S(
        "JUPYTERHUB_LOGO_URI",
        "file:///srv/jupyterhub/logo.svg",
        "Branding",
        "Hub logo: a file:// path served by the hub or an http(s):// URL",
        kind="uri",
        trait="Branding.logo_uri",
    ),
    # Usage report
    _S(
        "JUPYTERHUB_USAGE_SAMPLE_INTERVAL",
        "600",
        "Usage report",
        "Seconds between usage samples (CPU, memory, lab and active time of running servers)",
        kind="int",
        minimum=1,
        unit="seconds",
        trait="Usage.sample_interval",
    ),
    _S(
        "JUPYTERHUB_USAGE_RETENTION_DAYS",
        "400",
        "Usage report",
        "Days of usage records kept (independent of the activity monitor's samples)",
        kind="int",
        minimum=8,
        maximum=3650,
        unit="days",
        trait="Usage.retention_days",
    ),
    # Batch actions
    _S(
        "JUPYTERHUB_BATCH_CONCURRENCY",
        "5",
        "Batch actions",
        "Labs a batch stops, starts or restarts at the same time (also bounded by JupyterHub's spawn limit)",
        kind="int",
        minimum=1,
        maximum=100,
        trait="Batch.concurrency",
    ),
    # Scheduled backups
    _S(
        "JUPYTERHUB_BACKUP_INTERVAL",
        "0",
        "Scheduled backups",
        "Seconds between backup rounds of every user's volumes (0 = no scheduled backups)",
        kind="int",
        minimum=0,
        unit="seconds",
        trait="Backups.interval",
    ),
    _S(
        "JUPYTERHUB_BACKUP_TARGET",
        "jupyterhub_backups",
        "Scheduled backups",
        "Where archives go: a Docker volume name or an absolute path on the engine's host",
        kind="str",
        trait="Backups.target",
    ),
    _S(
        "JUPYTERHUB_BACKUP_KEEP",
        "7",
        "Scheduled backups",
        "Archives kept per volume (older generations are deleted)",
        kind="int",
        minimum=1,
        maximum=1000,
        trait="Backups.keep",
    ),
    _S(
        "JUPYTERHUB_BACKUP_IMAGE",
        "stellars-hub:dev",
        "Scheduled backups",
        "Image that runs tar for backups and restores (any image with GNU tar, find and coreutils)",
        kind="str",
        trait="Backups.image",
    ),
    # Admin access to labs
    _S(
        "JUPYTERHUB_ADMIN_LAB_ACCESS",
        "consent",
        "Admin access to labs",
        "consent: admins open a user's lab only while that user allows it; notified: without consent, but the user is notified in their lab and it is audited",
        kind="choice",
        choices=("consent", "notified"),
        trait="LabAccess.mode",
    ),
    _S(
        "JUPYTERHUB_ADMIN_LAB_ACCESS_MAX_HOURS",
        "24",
        "Admin access to labs",
        "Longest consent a user can give at once",
        kind="int",
        minimum=1,
        maximum=720,
        unit="hours",
        trait="LabAccess.max_hours",
    ),
    _S(
        "JUPYTERHUB_LAB_AUTH_RECHECK_SECONDS",
        "30",
        "Admin access to labs",
        "How long a lab trusts the hub's answer about a login before asking again (JupyterHub's own default is 300): withdrawn or expired access stops working within this time, even in a tab left open",
        kind="int",
        minimum=5,
        maximum=300,
        unit="seconds",
        trait="LabAccess.recheck_seconds",
    ),
    # Named servers
    _S(
        "JUPYTERHUB_NAMED_SERVERS",
        "0",
        "Named servers",
        "1: users may run named servers besides their default one, each with its own container and volumes",
        kind="bool",
        trait="NamedServers.enabled",
    ),
    _S(
        "JUPYTERHUB_NAMED_SERVERS_LIMIT",
        "3",
        "Named servers",
        "Named servers a user may have (0 = no limit)",
        kind="int",
        minimum=0,
        maximum=100,
        trait="NamedServers.limit",
    ),
    _S(
        "JUPYTERHUB_NAMED_SERVERS_SHARED_HOME",
        "0",
        "Named servers",
        "1: a user's named servers mount the default server's home volume instead of their own",
        kind="bool",
        trait="NamedServers.shared_home",
    ),
    # Kubernetes
    _S(
        "JUPYTERHUB_BACKEND",
        "docker",
        "Kubernetes",
        "Where labs run: docker (this host's engine) or kubernetes (pods through KubeSpawner)",
        kind="choice",
        choices=("docker", "kubernetes"),
        trait="StellarsHub.backend",
    ),
    _S(
        "JUPYTERHUB_K8S_NAMESPACE",
        "",
        "Kubernetes",
        "Namespace of the lab pods and claims; empty: the hub pod's own namespace (default outside a cluster)",
        optional=True,
        trait="Kubernetes.namespace",
    ),
    _S(
        "JUPYTERHUB_K8S_KUBECONFIG",
        "",
        "Kubernetes",
        "Kubeconfig file for a hub outside the cluster; empty: the pod's service account (or KUBECONFIG)",
        optional=True,
        trait="Kubernetes.kubeconfig",
    ),
    _S(
        "JUPYTERHUB_K8S_STORAGE_CLASS",
        "",
        "Kubernetes",
        "Storage class of the lab claims; empty: the cluster's default class",
        optional=True,
        trait="Kubernetes.storage_class",
    ),
    _S(
        "JUPYTERHUB_K8S_VOLUME_SIZE",
        "10Gi",
        "Kubernetes",
        "Size requested by each per-user claim (Kubernetes quantity)",
        trait="Kubernetes.volume_size",
    ),
)

BY_NAME = {s.name: s for s in SETTINGS}
BY_TRAIT = {s.trait: s for s in SETTINGS}

_BASE_URL_PART = re.compile(r"^[A-Za-z0-9._~-]+$")


def normalize_base_url(raw: str) -> str:
    """'/', '' -> '/'; 'x', '/x', '/x/' -> '/x/'. Never yields '//'."""
    parts = [p for p in raw.strip().split("/") if p]
    for p in parts:
        if not _BASE_URL_PART.match(p) or p in (".", ".."):
            raise ValueError(f"{p!r} is not a valid URL path segment")
    return "/" + "".join(p + "/" for p in parts)


def parse_value(setting: Setting, raw: str) -> Any:
    """Turn one raw string into its typed value, or raise ValueError."""
    value = raw.strip()
    if setting.kind == "base_url":
        return normalize_base_url(value)
    if value == "" and not setting.optional:
        raise ValueError("must not be empty")
    if setting.kind == "bool":
        if value not in ("0", "1"):
            raise ValueError(f"{raw!r} is invalid")
        return value == "1"
    if setting.kind == "choice":
        if value not in setting.choices:
            raise ValueError(f"{raw!r} is invalid")
        return value
    if setting.kind == "int":
        if not re.fullmatch(r"-?\d+", value):
            raise ValueError(f"{raw!r} is invalid")
        number = int(value)
        if setting.minimum is not None and number < setting.minimum:
            raise ValueError(f"{number} is below the minimum {setting.minimum}")
        if setting.maximum is not None and number > setting.maximum:
            raise ValueError(f"{number} is above the maximum {setting.maximum}")
        return number
    if setting.kind == "number":
        if not re.fullmatch(r"\d+(\.\d+)?", value):
            raise ValueError(f"{raw!r} is invalid")
        amount = float(value)
        lo, hi = cast(int, setting.minimum), cast(int, setting.maximum)  # number settings are bounded
        if not lo <= amount <= hi:
            raise ValueError(f"{value} is outside {setting.minimum}..{setting.maximum}")
        return amount
    if setting.kind == "subdomain_host":
        if value == "off":
            return ""
        if value and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?/?", value):
            raise ValueError(f"{raw!r} is invalid")
        return value.rstrip("/")
    if setting.kind == "uri":
        if not re.match(r"^(file://|https?://)\S+$", value):
            raise ValueError(f"{raw!r} is invalid")
        return value
    if setting.kind == "db_url":
        if value and not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError("the URL is invalid")
        return value
    if setting.kind == "subnets":
        from .labnet import parse_pool

        return ",".join(map(str, parse_pool(value)))
    return value


def as_text(setting: Setting, value: Any) -> str:
    """A typed value written the way its environment variable would hold it."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def coerce(setting: Setting, value: Any) -> Any:
    """A value from a config file (typed) or the environment (text), checked by the table's rules."""
    if isinstance(value, str):
        return parse_value(setting, value)
    if setting.kind == "bool" and isinstance(value, bool):
        return value
    if setting.kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return parse_value(setting, str(value))
    if setting.kind in ("choice", "number") and isinstance(value, int | float) and not isinstance(value, bool):
        return parse_value(setting, str(value))
    raise ValueError(f"{value!r} is invalid")


class SettingTrait(TraitType):
    """A platform setting as a traitlet: its default is the ``JUPYTERHUB_*`` variable (or the
    table's default), and every value, from a config file or the environment, is checked by the
    table's rules."""

    def __init__(self, name: str, **kwargs):
        self.setting = BY_NAME[name]
        s = self.setting
        help_text = f"{s.description}. Allowed: {s.allowed()}. Environment variable: {s.name} (default {s.default!r})."
        super().__init__(default_value=Undefined, config=True, help=help_text, **kwargs)
        self.info_text = s.allowed()

    def make_dynamic_default(self):
        s = self.setting
        return parse_value(s, os.environ.get(s.name, s.default))

    def default_value_repr(self) -> str:
        return f"${self.setting.name} or {self.setting.default!r}"

    def validate(self, obj, value):
        try:
            return coerce(self.setting, value)
        except ValueError as exc:
            owner = type(obj).__name__ if obj is not None else self.setting.owner
            raise TraitError(
                f"{owner}.{self.name} ({self.setting.name}): {exc}; allowed: {self.setting.allowed()}"
            ) from None


# named after the kind of value, which is what --help-all shows next to each option
_KIND_TRAITS = {
    kind: type(label, (SettingTrait,), {})
    for kind, label in (
        ("str", "Unicode"),
        ("int", "Int"),
        ("bool", "Bool"),
        ("choice", "Enum"),
        ("base_url", "URLPrefix"),
        ("uri", "URI"),
        ("db_url", "DatabaseURL"),
        ("number", "Float"),
        ("subdomain_host", "SubdomainHost"),
        ("subnets", "Subnets"),
    )
}


def setting(name: str) -> SettingTrait:
    """The traitlet of one table row, for the Configurable named in its ``trait``."""
    return _KIND_TRAITS[BY_NAME[name].kind](name)


def _configured(config, setting: Setting):
    """The value a config file gave ``setting``'s trait, or Undefined."""
    if config is None:
        return Undefined
    section = config.get(setting.owner) if setting.owner in config else None
    if section is not None and setting.trait_name in section:
        return section[setting.trait_name]
    return Undefined


def load(env: Mapping[str, str] | None = None, config=None) -> Settings:
    """Every setting's effective value: the config file's trait value when it sets one, else the
    environment variable (``env``, default the process environment), else the table's default.
    Raises ConfigError naming every bad value."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    raw: dict[str, str] = {}
    sources: dict[str, str] = {}
    problems: list[str] = []
    for s in SETTINGS:
        given = _configured(config, s)
        try:
            if given is not Undefined:
                sources[s.name] = "config file"
                values[s.name] = coerce(s, given)
            else:
                text = env.get(s.name)
                sources[s.name] = "default" if text is None else "environment"
                values[s.name] = parse_value(s, s.default if text is None else text)
            raw[s.name] = as_text(s, values[s.name])
        except ValueError as exc:
            where = f"c.{s.trait} ({s.name})" if sources[s.name] == "config file" else s.name
            problems.append(f"{where}: {exc}; allowed: {s.allowed()}")
    if problems:
        raise ConfigError(problems)
    return Settings(values=values, raw=raw, sources=sources)


def markdown_table() -> str:
    """The README's configuration reference, generated from ``SETTINGS``."""
    lines = [
        "| Variable | Traitlet | Default | Allowed | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "(empty)"
        lines.append(f"| `{s.name}` | `c.{s.trait}` | {default} | {s.allowed()} | {s.description} |")
    return "\n".join(lines)


def update_readme(path: str) -> None:
    """Rewrite the table between the README's settings-table markers."""
    start, end = "<!-- settings-table:start -->", "<!-- settings-table:end -->"
    text = open(path, encoding="utf-8").read()
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{start}\n{markdown_table()}\n{end}{tail}")


if __name__ == "__main__":  # python -m stellars_hub.settings [README.md]
    import sys

    if len(sys.argv) > 1:
        update_readme(sys.argv[1])
    else:
        print(markdown_table())

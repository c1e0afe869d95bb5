"""The one table of every operator setting (``JUPYTERHUB_*`` environment variables).

Everything else (hub configuration, ``stellars-hub check``, the README table, the settings page,
the compose defaults) is derived from or checked against ``SETTINGS``. Parsing never falls back
silently: a bad value raises :class:`ConfigError` naming the variable and what it allows.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping


class ConfigError(Exception):
    """One or more settings are invalid; ``problems`` holds one line per variable."""

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
        return "any text" if self.optional else "a non-empty text"


@dataclass(frozen=True)
class Settings:
    """Parsed, validated values keyed by variable name."""

    values: Mapping[str, Any]
    raw: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def rows(self) -> list[dict[str, Any]]:
        """The effective configuration, secrets masked, in table order."""
        rows = []
        for s in SETTINGS:
            value = self.raw.get(s.name, s.default)
            rows.append(
                {
                    "name": s.name,
                    "category": s.category,
                    "description": s.description,
                    "default": s.default,
                    "value": mask(value) if s.secret else value,
                    "allowed": s.allowed(),
                    "secret": s.secret,
                }
            )
        return rows


def mask(value: str) -> str:
    return "********" if value else ""


_S = Setting
SETTINGS: tuple[Setting, ...] = (
    # Hub
    _S("JUPYTERHUB_ADMIN", "admin", "Hub", "User name of the first admin; authorised at once when it signs up"),
    _S("JUPYTERHUB_BASE_URL", "/jupyterhub", "Hub", "URL prefix the hub is served under", kind="base_url", optional=True),
    _S("JUPYTERHUB_HUB_HOST", "jupyterhub", "Hub", "Host name labs use to reach the hub API (127.0.0.1 on host networking)"),
    _S("JUPYTERHUB_HUB_PORT", "8080", "Hub", "Port of the hub API that labs connect to", kind="int", minimum=1, maximum=65535),
    _S("JUPYTERHUB_SUBDOMAIN_HOST", "https://localhost", "Hub", "Public URL of the hub's domain; each lab is served at <user>.<that domain>, its own origin, so a page a user's lab serves cannot act with a visitor's hub identity (off or empty: labs share the hub's origin, for single-name sites only)", kind="subdomain_host", optional=True),
    _S("JUPYTERHUB_SSL_ENABLED", "0", "Hub", "1: the hub serves TLS itself (normally TLS ends at the reverse proxy)", kind="bool"),
    _S("JUPYTERHUB_SSL_CERT", "/data/certs/server.crt", "Hub", "TLS certificate file used when JUPYTERHUB_SSL_ENABLED=1"),
    _S("JUPYTERHUB_SSL_KEY", "/data/certs/server.key", "Hub", "TLS private key file used when JUPYTERHUB_SSL_ENABLED=1"),
    _S("JUPYTERHUB_DATA_DIR", "/data", "Hub", "Directory holding the cookie secret and the SQLite databases"),
    _S("JUPYTERHUB_DB_URL", "", "Hub", "Hub database URL; empty means SQLite in the data directory", kind="db_url", secret=True, optional=True),
    # Accounts
    _S("JUPYTERHUB_SIGNUP_ENABLED", "1", "Accounts", "1: people may sign up and wait for approval; 0: only admins create users", kind="bool"),
    _S("JUPYTERHUB_AUTOGENERATED_PASSWORD_WORDS", "4", "Accounts", "Words in a generated password for admin-created users", kind="int", minimum=3, maximum=12),
    _S("JUPYTERHUB_AUTOGENERATED_PASSWORD_DELIMITER", "-", "Accounts", "Character(s) joining the words of a generated password"),
    _S("JUPYTERHUB_AUTOGENERATED_PASSWORD_TTL", "300", "Accounts", "Seconds a generated password stays visible to admins (kept in memory only, never stored unhashed)", kind="int", minimum=1, maximum=300, unit="seconds"),
    _S("JUPYTERHUB_PASSWORD_MIN_LENGTH", "8", "Accounts", "Minimum length of a password chosen at signup or on Change Password", kind="int", minimum=1, maximum=128),
    _S("JUPYTERHUB_PASSWORD_CHECK_COMMON", "1", "Accounts", "1: refuse passwords from NativeAuthenticator's list of common passwords", kind="bool"),
    _S("JUPYTERHUB_LOGIN_MAX_FAILURES", "5", "Accounts", "Failed logins in a row after which a user name is locked out for a while (0 = never)", kind="int", minimum=0, maximum=1000),
    _S("JUPYTERHUB_LOGIN_LOCKOUT_SECONDS", "600", "Accounts", "How long a locked-out user name must wait before the next login attempt", kind="int", minimum=1, maximum=86400, unit="seconds"),
    # Labs
    _S("JUPYTERHUB_NOTEBOOK_IMAGE", "stellars/stellars-jupyterlab-ds:latest", "Labs", "Image every user's JupyterLab container runs"),
    _S("JUPYTERHUB_NETWORK_NAME", "jupyterhub_network", "Labs", "Docker network of the labs; 'host' puts each lab on host networking on its own port"),
    _S("JUPYTERHUB_LAB_NETWORK_ISOLATION", "1", "Labs", "1: each lab gets its own Docker network <JUPYTERHUB_NETWORK_NAME>-<user> (labs cannot reach each other; the hub joins each); 0: all labs share JUPYTERHUB_NETWORK_NAME", kind="bool"),
    _S("JUPYTERHUB_SERVICE_MLFLOW", "1", "Labs", "1: the lab starts its MLflow tracking server", kind="bool"),
    _S("JUPYTERHUB_SERVICE_RESOURCES_MONITOR", "1", "Labs", "1: the lab starts its resources monitor", kind="bool"),
    _S("JUPYTERHUB_SERVICE_TENSORBOARD", "1", "Labs", "1: the lab starts TensorBoard", kind="bool"),
    _S("JUPYTERHUB_LAB_MEMORY_LIMIT", "8192", "Labs", "Memory of a lab (kernels included) unless a group policy gives more; over it the engine kills a process in the lab, never outside it (0 = no limit)", kind="int", minimum=0, maximum=4194304, unit="MiB"),
    _S("JUPYTERHUB_LAB_CPU_LIMIT", "4", "Labs", "CPUs a lab may use at once unless a group policy gives more (0 = no limit)", kind="number", minimum=0, maximum=1024, unit="CPUs"),
    _S("JUPYTERHUB_LAB_PIDS_LIMIT", "4096", "Labs", "Processes and threads a lab may run unless a group policy gives more; stops fork bombs (0 = no limit)", kind="int", minimum=0, maximum=4194304),
    _S("JUPYTERHUB_POLICY_HOST_PATHS", "", "Labs", "Comma-separated host directories under which group policies may mount host paths into labs (empty: named volumes only)", optional=True),
    _S("JUPYTERHUB_QUOTA_CHECK_INTERVAL", "3600", "Labs", "Seconds between checks of storage use against group quotas (users over quota are warned in JupyterLab at most once a day)", kind="int", minimum=10, maximum=86400, unit="seconds"),
    _S("TF_CPP_MIN_LOG_LEVEL", "3", "Labs", "TensorFlow C++ log level passed to labs", kind="choice", choices=("0", "1", "2", "3")),
    # GPU
    _S("JUPYTERHUB_GPU_ENABLED", "2", "GPU", "0 off, 1 on, 2 detect at start-up", kind="choice", choices=("0", "1", "2")),
    _S("JUPYTERHUB_NVIDIA_IMAGE", "nvidia/cuda:13.0.2-base-ubuntu24.04", "GPU", "Image used to probe for GPUs with nvidia-smi"),
    # Self-service
    _S("JUPYTERHUB_RESTART_TIMEOUT", "10", "Self-service", "Seconds a lab gets to stop gracefully on Restart Server", kind="int", minimum=0, maximum=600, unit="seconds"),
    _S("JUPYTERHUB_RESTART_READY_TIMEOUT", "120", "Self-service", "Seconds to wait for a restarted lab to answer again", kind="int", minimum=5, maximum=3600, unit="seconds"),
    _S("JUPYTERHUB_SELFSERVICE_RATE_LIMIT", "10", "Self-service", "Restarts and resets allowed per user per minute", kind="int", minimum=1, maximum=1000),
    # Notifications
    _S("JUPYTERHUB_NOTIFICATIONS_TIMEOUT", "5", "Notifications", "Seconds each lab gets to accept a broadcast before it counts as not responding", kind="int", minimum=1, maximum=60, unit="seconds"),
    # Idle culler
    _S("JUPYTERHUB_IDLE_CULLER_ENABLED", "0", "Idle culler", "1: stop labs that stay idle", kind="bool"),
    _S("JUPYTERHUB_IDLE_CULLER_TIMEOUT", "86400", "Idle culler", "Idle time after which a lab is stopped", kind="int", minimum=10, unit="seconds"),
    _S("JUPYTERHUB_IDLE_CULLER_INTERVAL", "600", "Idle culler", "How often idleness is checked", kind="int", minimum=1, unit="seconds"),
    _S("JUPYTERHUB_IDLE_CULLER_MAX_AGE", "0", "Idle culler", "Stop labs older than this whatever their activity (0 = off)", kind="int", minimum=0, unit="seconds"),
    _S("JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION", "24", "Idle culler", "Hours a user may extend their session per server start", kind="int", minimum=0, maximum=720, unit="hours"),
    _S("JUPYTERHUB_IDLE_CULLER_WARNING", "900", "Idle culler", "How long before stopping a lab its user is warned inside JupyterLab (0 = no warning)", kind="int", minimum=0, unit="seconds"),
    _S("JUPYTERHUB_IDLE_CULLER_HOUR_SECONDS", "3600", "Idle culler", "Length of one extension hour; only tests shorten it", kind="int", minimum=1, maximum=3600, unit="seconds"),
    # Activity monitor
    _S("JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL", "600", "Activity monitor", "Seconds between activity samples", kind="int", minimum=1, unit="seconds"),
    _S("JUPYTERHUB_ACTIVITYMON_RETENTION_DAYS", "7", "Activity monitor", "Days of samples kept", kind="int", minimum=1, maximum=365, unit="days"),
    _S("JUPYTERHUB_ACTIVITYMON_HALF_LIFE", "24", "Activity monitor", "Half-life of a sample's weight in the activity score", kind="int", minimum=1, maximum=8760, unit="hours"),
    _S("JUPYTERHUB_ACTIVITYMON_INACTIVE_AFTER", "60", "Activity monitor", "Minutes without lab activity after which a user counts as idle", kind="int", minimum=1, unit="minutes"),
    # Branding
    _S("JUPYTERHUB_LOGO_URI", "file:///srv/jupyterhub/logo.svg", "Branding", "Hub logo: a file:// path served by the hub or an http(s):// URL", kind="uri"),
)

BY_NAME = {s.name: s for s in SETTINGS}

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
        number = float(value)
        if not setting.minimum <= number <= setting.maximum:
            raise ValueError(f"{value} is outside {setting.minimum}..{setting.maximum}")
        return number
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
    return value


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Parse every setting from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    raw: dict[str, str] = {}
    problems: list[str] = []
    for s in SETTINGS:
        text = env.get(s.name)
        text = s.default if text is None else text
        raw[s.name] = text
        try:
            values[s.name] = parse_value(s, text)
        except ValueError as exc:
            problems.append(f"{s.name}: {exc}; allowed: {s.allowed()}")
    if problems:
        raise ConfigError(problems)
    return Settings(values=values, raw=raw)


def markdown_table() -> str:
    """The README's configuration reference, generated from ``SETTINGS``."""
    lines = ["| Variable | Default | Allowed | Description |", "| --- | --- | --- | --- |"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "(empty)"
        lines.append(f"| `{s.name}` | {default} | {s.allowed()} | {s.description} |")
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

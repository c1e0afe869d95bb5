"""User name -> Docker container and volume names, with DockerSpawner's escaping rules.

Every feature builds names through here, so a reset can never miss (or hit someone else's)
volumes because of a different escaping.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from escapism import escape

CONTAINER_PREFIX = "jupyterlab-"
SHARED_VOLUME = "jupyterhub_shared"
SHARED_MOUNT = "/mnt/shared"
GPU_PROBE_CONTAINER = "jupyterhub_nvidia_autodetect"  # short-lived, removed after every probe
_SAFE = set(string.ascii_lowercase + string.digits)


@dataclass(frozen=True)
class UserVolume:
    key: str  # what the API and the UI call it: home, workspace, cache
    mount: str
    description: str


# The one place that lists per-user volumes; spawner, self-service and scripts read it.
USER_VOLUMES: tuple[UserVolume, ...] = (
    UserVolume("home", "/home", "user home directory files, configurations"),
    UserVolume("workspace", "/home/lab/workspace", "project files, notebooks, code"),
    UserVolume("cache", "/home/lab/.cache", "temporary files, pip cache, conda cache"),
)
NOTEBOOK_DIR = "/home/lab/workspace"


def default_user_volumes() -> list[dict]:
    """The ``user_volumes`` trait's default (both spawners): home, workspace and cache."""
    return [{"key": v.key, "mount": v.mount, "description": v.description} for v in USER_VOLUMES]


def volume_specs(user_volumes: list[dict]) -> tuple[UserVolume, ...]:
    """A ``user_volumes`` trait's value as volume specs."""
    return tuple(UserVolume(v["key"], v["mount"], v.get("description", "")) for v in user_volumes)


def check_user_volumes(specs: list[dict]) -> list[dict]:
    """``user_volumes`` as configured, or ValueError: each needs a unique lower-case key (it names
    the volume) and an absolute mount."""
    keys = set()
    for spec in specs:
        key = spec.get("key", "")
        if not re.fullmatch(r"[a-z0-9]+", key) or key in keys or not str(spec.get("mount", "")).startswith("/"):
            raise ValueError(f"user_volumes: {spec!r} needs a unique lower-case key and an absolute mount")
        keys.add(key)
    return specs


def escape_name(name: str) -> str:
    """DockerSpawner's default escaping: '-' escapes, unsafe chars become -XX, lower case.

    Upper-case letters are escaped before lower-casing, so 'Ann' and 'ann' stay distinct.
    """
    return escape(name, _SAFE, escape_char="-").lower()


def container_name(username: str) -> str:
    return f"{CONTAINER_PREFIX}{escape_name(username)}"


# generated bases end in "-x<n>": escape_name never writes "-x" (its "-" is always followed by
# two hex digits), so such a base cannot be any user's own escaped name
GENERATION_MARK = "-x"


def generated_base(username: str, n: int) -> str:
    return f"{escape_name(username)}{GENERATION_MARK}{n}"


def volume_names_for_base(base: str, volumes=USER_VOLUMES) -> dict[str, str]:
    """key -> volume name for a base (a user's own escaped name, or a stored one)."""
    return {v.key: f"{CONTAINER_PREFIX}{base}_{v.key}" for v in volumes}


def volume_name(username: str, key: str) -> str:
    """The volume of a user whose volumes carry their own name (tools and tests; the hub asks its
    ``VolumeNames``, which knows renamed users)."""
    return f"{CONTAINER_PREFIX}{escape_name(username)}_{key}"


def user_volume_names(username: str, volumes=USER_VOLUMES) -> dict[str, str]:
    """key -> volume name of a user whose volumes carry their own name (see ``volume_name``)."""
    return volume_names_for_base(escape_name(username), volumes)


# Named servers: "--" separates the user's part from the server's, as DockerSpawner's own
# template does ("-" alone is the escape character, so "--" never occurs in an escaped name).
SERVER_SEPARATOR = "--"


def server_container_name(username: str, server: str) -> str:
    """The container of one of a user's servers ('' is the default server)."""
    base = container_name(username)
    return f"{base}{SERVER_SEPARATOR}{escape_name(server)}" if server else base


def server_volume_names(username: str, server: str, volumes=USER_VOLUMES, shared_home: bool = False) -> dict[str, str]:
    """key -> volume name of one of the servers of a user whose volumes carry their own name."""
    return VolumeNames().server_volume_names(username, server, volumes, shared_home)


class VolumeNames:
    """Which volumes are a user's. They are named after the user's volume base: their own escaped
    name, unless the hub's records say otherwise (a renamed user keeps the volumes they had, and a
    newcomer to a name whose volumes still belong to someone gets fresh ones). One per hub, held by
    its platform; the accounts feature gives it the ``lookup`` of those records."""

    def __init__(self, lookup: Callable[[str], str | None] | None = None):
        self.lookup = lookup  # user name -> stored base, or None (their own escaped name)

    def base(self, username: str) -> str:
        """The part of a user's volume names between the prefix and the ``_<key>`` suffix."""
        stored = self.lookup(username) if self.lookup else None
        return stored or escape_name(username)

    def volume_name(self, username: str, key: str) -> str:
        return f"{CONTAINER_PREFIX}{self.base(username)}_{key}"

    def user_volume_names(self, username: str, volumes=USER_VOLUMES) -> dict[str, str]:
        """key -> volume name of the user's default server."""
        return volume_names_for_base(self.base(username), volumes)

    def server_volume_names(
        self, username: str, server: str, volumes=USER_VOLUMES, shared_home: bool = False
    ) -> dict[str, str]:
        """key -> volume name of one of a user's servers: jupyterlab-<base>--<server>_<key>; with
        ``shared_home`` every server mounts the default server's home volume."""
        if not server:
            return self.user_volume_names(username, volumes)
        own = volume_names_for_base(f"{self.base(username)}{SERVER_SEPARATOR}{escape_name(server)}", volumes)
        if shared_home and "home" in own:
            own["home"] = self.volume_name(username, "home")
        return own


class TemplateNames:
    """Naming for page templates (JupyterHub calls callables in template_vars with the user,
    so the functions are exposed as methods of a plain object)."""

    container = staticmethod(container_name)

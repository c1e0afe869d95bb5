"""User name -> Docker container and volume names, with DockerSpawner's escaping rules.

Every feature builds names through here, so a reset can never miss (or hit someone else's)
volumes because of a different escaping.
"""

from __future__ import annotations

import re
import string
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


# A user's volumes normally carry their own escaped name. After a rename they keep the ones
# they had, and a newcomer taking a name whose volumes still belong to someone (renamed or
# deleted with volumes kept) gets fresh ones: the accounts feature keeps that mapping in the hub
# database and installs a resolver here, so every caller of volume_name() follows it.
_volume_base_resolver = None
# generated bases end in "-x<n>": escape_name never writes "-x" (its "-" is always followed by
# two hex digits), so such a base cannot be any user's own escaped name
GENERATION_MARK = "-x"


def use_volume_bases(resolver) -> None:
    """Install ``resolver(username) -> base | None`` (None: the user's own escaped name)."""
    global _volume_base_resolver
    _volume_base_resolver = resolver


def volume_base(username: str) -> str:
    """The part of a user's volume names between the prefix and the ``_<key>`` suffix."""
    base = _volume_base_resolver(username) if _volume_base_resolver else None
    return base or escape_name(username)


def generated_base(username: str, n: int) -> str:
    return f"{escape_name(username)}{GENERATION_MARK}{n}"


def volume_name(username: str, key: str) -> str:
    return f"{CONTAINER_PREFIX}{volume_base(username)}_{key}"


def volume_names_for_base(base: str, volumes=USER_VOLUMES) -> dict[str, str]:
    """key -> volume name for a stored base (volumes of a deleted user, for example)."""
    return {v.key: f"{CONTAINER_PREFIX}{base}_{v.key}" for v in volumes}


def user_volume_names(username: str, volumes=USER_VOLUMES) -> dict[str, str]:
    """key -> real Docker volume name for one user."""
    return volume_names_for_base(volume_base(username), volumes)


# Named servers: "--" separates the user's part from the server's, as DockerSpawner's own
# template does ("-" alone is the escape character, so "--" never occurs in an escaped name).
SERVER_SEPARATOR = "--"


def server_container_name(username: str, server: str) -> str:
    """The container of one of a user's servers ('' is the default server)."""
    base = container_name(username)
    return f"{base}{SERVER_SEPARATOR}{escape_name(server)}" if server else base


def server_volume_names(username: str, server: str, volumes=USER_VOLUMES, shared_home: bool = False) -> dict[str, str]:
    """key -> volume name of one of a user's servers: jupyterlab-<name>--<server>_<key>; with
    ``shared_home`` every server mounts the default server's home volume."""
    if not server:
        return user_volume_names(username, volumes)
    own = volume_names_for_base(f"{volume_base(username)}{SERVER_SEPARATOR}{escape_name(server)}", volumes)
    if shared_home and "home" in own:
        own["home"] = volume_name(username, "home")
    return own


class TemplateNames:
    """Naming for page templates (JupyterHub calls callables in template_vars with the user,
    so the functions are exposed as methods of a plain object)."""

    container = staticmethod(container_name)
    volume = staticmethod(volume_name)

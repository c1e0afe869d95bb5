"""User name -> Docker container and volume names, with DockerSpawner's escaping rules.

Every feature builds names through here, so a reset can never miss (or hit someone else's)
volumes because of a different escaping.
"""

from __future__ import annotations

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


def escape_name(name: str) -> str:
    """DockerSpawner's default escaping: '-' escapes, unsafe chars become -XX, lower case.

    Upper-case letters are escaped before lower-casing, so 'Ann' and 'ann' stay distinct.
    """
    return escape(name, _SAFE, escape_char="-").lower()


def container_name(username: str) -> str:
    return f"{CONTAINER_PREFIX}{escape_name(username)}"


def volume_name(username: str, key: str) -> str:
    return f"{container_name(username)}_{key}"


def user_volume_names(username: str, volumes=USER_VOLUMES) -> dict[str, str]:
    """key -> real Docker volume name for one user."""
    return {v.key: volume_name(username, v.key) for v in volumes}


class TemplateNames:
    """Naming for page templates (JupyterHub calls callables in template_vars with the user,
    so the functions are exposed as methods of a plain object)."""

    container = staticmethod(container_name)
    volume = staticmethod(volume_name)

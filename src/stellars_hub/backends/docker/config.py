"""Hub configuration of the docker backend (the default): its spawner and runtime."""

from __future__ import annotations

from ...settings import Settings
from .runtime import DockerRuntime
from .spawner import StellarsSpawner


def configure(c, s: Settings, setdefault) -> None:
    setdefault(c.Platform, "runtime_class", DockerRuntime)
    setdefault(c.JupyterHub, "spawner_class", StellarsSpawner)

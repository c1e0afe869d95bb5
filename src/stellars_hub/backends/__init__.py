"""The engines labs run on, side by side: ``docker`` and ``kubernetes``. Each configures its
spawner (carrying ``lab.mixin.LabSpawnerMixin``) and runtime; the config entry point picks one by
``JUPYTERHUB_BACKEND``, and nothing else imports a backend."""

from __future__ import annotations

from collections.abc import Callable


def _docker(c, s, setdefault) -> None:
    from .docker.config import configure

    configure(c, s, setdefault)


def _kubernetes(c, s, setdefault) -> None:
    from .kubernetes.config import configure

    configure(c, s, setdefault)


# imported on selection: a Docker hub never loads the Kubernetes client
BACKENDS: dict[str, Callable[..., None]] = {"docker": _docker, "kubernetes": _kubernetes}


def config_classes() -> list:
    """The backends' own settings classes (for the settings loader and --help-all)."""
    from .kubernetes.settings import Kubernetes

    return [Kubernetes]

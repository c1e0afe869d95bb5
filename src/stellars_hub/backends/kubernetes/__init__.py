"""The kubernetes backend (JUPYTERHUB_BACKEND=kubernetes): lab pods through KubeSpawner.

Names follow naming.py, so every feature finds the same user's objects on both backends: the pod
is the container name (``jupyterlab-<escaped name>``, ``--<server>`` for a named server); a claim
is the Docker volume name with its ``_`` (not allowed in Kubernetes names) written as ``-``.
"""

from __future__ import annotations

from kubespawner import KubeSpawner

# the lab's container inside the pod (KubeSpawner's name for it)
LAB_CONTAINER = "notebook"
# on the claims the spawner creates: the volume's platform name (a claim name cannot be turned
# back into it: both the escaped user name and the key may hold "-")
VOLUME_ANNOTATION = "stellars.jupyterhub/volume"


def default_namespace(configured: str = "") -> str:
    """The configured namespace, else KubeSpawner's default (the hub pod's own, else ``default``)."""
    return configured or KubeSpawner._namespace_default.func(None)

"""The kubernetes backend (JUPYTERHUB_BACKEND=kubernetes): lab pods through KubeSpawner.

Names follow naming.py, so every feature finds the same user's objects on both backends: the pod
is the container name (``jupyterlab-<escaped name>``); a claim is the Docker volume name with its
``_`` (not allowed in Kubernetes names) written as ``-``.
"""

from __future__ import annotations

import os

# the lab's container inside the pod (KubeSpawner's name for it)
LAB_CONTAINER = "notebook"
GPU_RESOURCE = "nvidia.com/gpu"
# on the claims the spawner creates: the volume's platform name (a claim name cannot be turned
# back into it: both the escaped user name and the key may hold "-")
VOLUME_ANNOTATION = "stellars.jupyterhub/volume"
# users' lab claims (jupyterlab-<escaped name>-<key>), the shared claim and the hub's own: no
# group policy may mount one
PLATFORM_CLAIM_PREFIXES = ("jupyterlab-", "jupyterhub-")
_SA_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def claim_name(volume_name: str) -> str:
    """Docker-style volume name -> persistent volume claim name.

    Escaped user names never contain ``_`` (naming.escape_name keeps only [a-z0-9-]), so the
    only ``_`` is the one before the key and the mapping cannot merge two users' volumes.
    """
    return volume_name.replace("_", "-")


def default_namespace(configured: str = "") -> str:
    """The configured namespace, else the hub pod's own, else ``default`` (KubeSpawner's rule)."""
    if configured:
        return configured
    if os.path.exists(_SA_NAMESPACE):
        with open(_SA_NAMESPACE) as f:
            return f.read().strip()
    return "default"

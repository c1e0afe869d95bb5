"""Hub configuration of the kubernetes backend, called from hubconfig.apply."""

from __future__ import annotations

import os

from kubernetes_asyncio.config import kube_config

from .. import runtime
from ..settings import Settings
from . import default_namespace
from .spawner import StellarsKubeSpawner


def use_kubeconfig(path: str) -> None:
    """KubeSpawner's client (and so the runtime's) loads the default kubeconfig whenever the hub
    is not inside a cluster; that default was read from KUBECONFIG when the client was imported,
    so both are set."""
    os.environ["KUBECONFIG"] = path
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = path


def configure(c, s: Settings, lab_environment: dict) -> None:
    if s["JUPYTERHUB_K8S_KUBECONFIG"]:
        use_kubeconfig(s["JUPYTERHUB_K8S_KUBECONFIG"])
    namespace = default_namespace(s["JUPYTERHUB_K8S_NAMESPACE"])
    runtime.configure("kubernetes", namespace)

    c.JupyterHub.spawner_class = StellarsKubeSpawner
    sp = c.StellarsKubeSpawner
    sp.namespace = namespace
    sp.image = s["JUPYTERHUB_NOTEBOOK_IMAGE"]
    sp.host_network = s["JUPYTERHUB_NETWORK_NAME"] == "host"
    sp.lab_environment = lab_environment
    sp.gpu_enabled = s["JUPYTERHUB_GPU_ENABLED"] == "1"  # 2: decided per spawn by the detection
    sp.storage_class = s["JUPYTERHUB_K8S_STORAGE_CLASS"]
    sp.storage_capacity = s["JUPYTERHUB_K8S_VOLUME_SIZE"]
    sp.default_url = "/lab"
    sp.start_timeout = 180
    sp.http_timeout = 120

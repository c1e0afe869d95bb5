"""Hub configuration of the kubernetes backend: its settings and what it sets in JupyterHub's."""

from __future__ import annotations

import os

from kubernetes_asyncio.config import kube_config

from ...lab.config import Labs
from ...settings import Settings
from . import default_namespace
from .runtime import KubernetesRuntime
from .settings import Kubernetes
from .spawner import StellarsKubeSpawner


def use_kubeconfig(path: str) -> None:
    """KubeSpawner's client (and so the runtime's) loads the default kubeconfig whenever the hub
    is not inside a cluster; that default was read from KUBECONFIG when the client was imported,
    so both are set."""
    os.environ["KUBECONFIG"] = path
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = path


def configure(c, s: Settings, setdefault) -> None:
    """KubeSpawner and the Kubernetes runtime, where the site's config left them unset."""
    k8s = s(Kubernetes)
    if k8s.kubeconfig:
        use_kubeconfig(k8s.kubeconfig)
    setdefault(c.Platform, "runtime_class", KubernetesRuntime)
    setdefault(c.JupyterHub, "spawner_class", StellarsKubeSpawner)
    sp = c.StellarsKubeSpawner
    for name, value in {
        "namespace": default_namespace(k8s.namespace),
        "host_network": s(Labs).network_name == "host",
        "storage_class": k8s.storage_class,
        "storage_capacity": k8s.volume_size,
    }.items():
        setdefault(sp, name, value)

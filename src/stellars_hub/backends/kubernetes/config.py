"""Hub configuration of the kubernetes backend: its settings and what it sets in JupyterHub's."""

from __future__ import annotations

import os

from kubernetes_asyncio.config import kube_config
from traitlets.config import Configurable

from ...settings import Settings, setting
from . import default_namespace
from .runtime import KubernetesRuntime
from .spawner import StellarsKubeSpawner


class Kubernetes(Configurable):
    """Where the labs run with JUPYTERHUB_BACKEND=kubernetes."""

    namespace = setting("JUPYTERHUB_K8S_NAMESPACE")
    kubeconfig = setting("JUPYTERHUB_K8S_KUBECONFIG")
    storage_class = setting("JUPYTERHUB_K8S_STORAGE_CLASS")
    volume_size = setting("JUPYTERHUB_K8S_VOLUME_SIZE")


def use_kubeconfig(path: str) -> None:
    """KubeSpawner's client (and so the runtime's) loads the default kubeconfig whenever the hub
    is not inside a cluster; that default was read from KUBECONFIG when the client was imported,
    so both are set."""
    os.environ["KUBECONFIG"] = path
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = path


def configure(c, s: Settings, setdefault) -> None:
    """KubeSpawner and the Kubernetes runtime, where the site's config left them unset."""
    if s["JUPYTERHUB_K8S_KUBECONFIG"]:
        use_kubeconfig(s["JUPYTERHUB_K8S_KUBECONFIG"])
    namespace = default_namespace(s["JUPYTERHUB_K8S_NAMESPACE"])
    setdefault(c.Platform, "runtime_class", KubernetesRuntime)
    setdefault(c.JupyterHub, "spawner_class", StellarsKubeSpawner)
    sp = c.StellarsKubeSpawner
    for name, value in {
        "namespace": namespace,
        "host_network": s["JUPYTERHUB_NETWORK_NAME"] == "host",
        "storage_class": s["JUPYTERHUB_K8S_STORAGE_CLASS"],
        "storage_capacity": s["JUPYTERHUB_K8S_VOLUME_SIZE"],
    }.items():
        setdefault(sp, name, value)

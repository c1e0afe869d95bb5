"""Hub configuration of the kubernetes backend, called from hubconfig.apply."""

from __future__ import annotations

import os

from kubernetes_asyncio.config import kube_config

from ..runtime.kubernetes import KubernetesRuntime
from ..settings import Settings, SettingsGroup, Unicode
from . import default_namespace
from .spawner import StellarsKubeSpawner


class Kubernetes(SettingsGroup):
    """Where the labs run with JUPYTERHUB_BACKEND=kubernetes."""

    category = "Kubernetes"

    namespace = Unicode(
        "",
        allow_empty=True,
        help="Namespace of the lab pods and claims; empty: the hub pod's own namespace (default outside a cluster)",
    ).tag(config=True, env="JUPYTERHUB_K8S_NAMESPACE")
    kubeconfig = Unicode(
        "",
        allow_empty=True,
        help="Kubeconfig file for a hub outside the cluster; empty: the pod's service account (or KUBECONFIG)",
    ).tag(config=True, env="JUPYTERHUB_K8S_KUBECONFIG")
    storage_class = Unicode(
        "", allow_empty=True, help="Storage class of the lab claims; empty: the cluster's default class"
    ).tag(config=True, env="JUPYTERHUB_K8S_STORAGE_CLASS")
    volume_size = Unicode("10Gi", help="Size requested by each per-user claim (Kubernetes quantity)").tag(
        config=True, env="JUPYTERHUB_K8S_VOLUME_SIZE"
    )


def use_kubeconfig(path: str) -> None:
    """KubeSpawner's client (and so the runtime's) loads the default kubeconfig whenever the hub
    is not inside a cluster; that default was read from KUBECONFIG when the client was imported,
    so both are set."""
    os.environ["KUBECONFIG"] = path
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = path


def configure(c, s: Settings, setdefault) -> None:
    """KubeSpawner and the Kubernetes runtime, where the site's config left them unset."""
    from ..admin.config import Gpu
    from ..lab.config import Labs
    from ..spawner import lab_environment

    k8s, labs = s(Kubernetes), s(Labs)
    if k8s.kubeconfig:
        use_kubeconfig(k8s.kubeconfig)
    namespace = default_namespace(k8s.namespace)
    setdefault(c.Platform, "runtime_class", KubernetesRuntime)
    setdefault(c.JupyterHub, "spawner_class", StellarsKubeSpawner)
    sp = c.StellarsKubeSpawner
    for name, value in {
        "namespace": namespace,
        "image": labs.image,
        "host_network": labs.network_name == "host",
        "lab_environment": lab_environment(labs),
        "gpu_enabled": s(Gpu).enabled == "1",  # 2: decided per spawn by the detection
        "storage_class": k8s.storage_class,
        "storage_capacity": k8s.volume_size,
        "default_url": "/lab",
        "start_timeout": 180,
        "http_timeout": 120,
    }.items():
        setdefault(sp, name, value)

"""The kubernetes backend's settings (``c.Kubernetes.*``)."""

from __future__ import annotations

from ...settings import SettingsGroup, Unicode


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
    shared_storage_class = Unicode(
        "",
        allow_empty=True,
        help="Storage class of the groups' project folders, claims every member's lab mounts at once (ReadWriteMany: NFS, CephFS, a cloud file share); empty: JUPYTERHUB_K8S_STORAGE_CLASS",
    ).tag(config=True, env="JUPYTERHUB_K8S_SHARED_STORAGE_CLASS")

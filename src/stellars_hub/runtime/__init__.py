"""The container engine behind a small async interface (see base.ContainerRuntime)."""

from .base import ContainerRuntime, EngineUnavailable, GpuProbe, NotFound, RuntimeConflict
from .docker import DockerRuntime

__all__ = ["ContainerRuntime", "DockerRuntime", "GpuProbe", "EngineUnavailable", "NotFound", "RuntimeConflict",
           "configure", "new_runtime"]

# which runtime new_runtime() builds: set once by hubconfig.apply from JUPYTERHUB_BACKEND
_backend = {"name": "docker", "namespace": ""}


def configure(backend: str, namespace: str = "") -> None:
    _backend.update(name=backend, namespace=namespace)


def new_runtime(max_workers: int = 8, timeout: int = 60) -> ContainerRuntime:
    """A runtime for the configured backend (each caller keeps its own: separate pools)."""
    if _backend["name"] == "kubernetes":
        from .kubernetes import KubernetesRuntime  # the kubernetes client loads only when used

        return KubernetesRuntime(_backend["namespace"], timeout=timeout)
    return DockerRuntime(max_workers=max_workers, timeout=timeout)

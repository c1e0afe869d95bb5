"""The container engine behind a small async interface (see base.ContainerRuntime)."""

from .base import ContainerRuntime, EngineUnavailable, GpuProbe, NotFound, RuntimeConflict
from .docker import DockerRuntime

__all__ = ["ContainerRuntime", "DockerRuntime", "GpuProbe", "EngineUnavailable", "NotFound", "RuntimeConflict"]

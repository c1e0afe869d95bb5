"""The container engine behind a small async interface (see base.ContainerRuntime); the engines
themselves are backends (``stellars_hub.backends``)."""

from .base import ContainerRuntime, EngineUnavailable, GpuProbe, NotFound, RuntimeConflict

__all__ = ["ContainerRuntime", "GpuProbe", "EngineUnavailable", "NotFound", "RuntimeConflict"]

"""The container engine behind a small async interface (see base.ContainerRuntime)."""

from .base import ContainerRuntime, EngineUnavailable, NotFound, RuntimeConflict
from .docker import DockerRuntime

__all__ = ["ContainerRuntime", "DockerRuntime", "EngineUnavailable", "NotFound", "RuntimeConflict"]

"""JUPYTERHUB_GPU_ENABLED: 0 never, 1 always, 2 detect once at start-up.

Detection runs nvidia-smi in JUPYTERHUB_NVIDIA_IMAGE with the NVIDIA runtime through the
container runtime's thread pool (never on the event loop), bounded by PROBE_TIMEOUT, and logs
one line with the outcome. It starts while the hub starts; a spawn that comes before the answer
waits for it (at most the bound) rather than guessing.
"""

from __future__ import annotations

import asyncio
import time

from traitlets.log import get_logger

from .. import naming
from ..runtime import ContainerRuntime, GpuProbe

PROBE_TIMEOUT = 30.0


class GpuDecision:
    def __init__(self, mode: str, image: str, runtime: ContainerRuntime, timeout: float = PROBE_TIMEOUT, log=None):
        self.mode = mode
        self.image = image
        self.timeout = timeout
        self._runtime = runtime
        self._log = log
        self._task: asyncio.Task | None = None
        self.result: GpuProbe | None = None

    @property
    def log(self):
        return self._log or get_logger()

    def start(self) -> None:
        """Begin detection now if an event loop is running (the hub loads its config inside
        one), otherwise at the first spawn."""
        if self.mode != "2" or self._task is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._task = loop.create_task(self._detect())

    async def enabled(self) -> bool:
        if self.mode != "2":
            return self.mode == "1"
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._detect())
        return (await asyncio.shield(self._task)).available

    async def _detect(self) -> GpuProbe:
        began = time.monotonic()
        runtime = self._runtime
        try:
            result = await runtime.probe_gpu(self.image, naming.GPU_PROBE_CONTAINER, self.timeout)
        except Exception as exc:  # never let detection take the hub down: decide "off"
            result = GpuProbe(False, f"probe error: {exc}")
        took = time.monotonic() - began
        if result.available:
            self.log.info("GPU detection (JUPYTERHUB_GPU_ENABLED=2): on - %s (%.1f s)", result.reason, took)
        else:
            self.log.warning("GPU detection (JUPYTERHUB_GPU_ENABLED=2): off - %s (%.1f s)", result.reason, took)
        self.result = result
        return result

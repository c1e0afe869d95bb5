"""GpuDecision: modes 0/1 never probe; mode 2 probes once, and a spawn that asks before the
answer waits for it instead of guessing."""

from __future__ import annotations

import asyncio
import logging

from stellars_hub.admin.gpu import GpuDecision
from stellars_hub.runtime import GpuProbe


class SlowProbeRuntime:
    """Answers after the test lets it (a stand-in engine; the decision logic is under test)."""

    def __init__(self, answer: GpuProbe):
        self.answer = answer
        self.calls: list = []
        self.release = asyncio.Event()

    async def probe_gpu(self, image, container_name, timeout):
        self.calls.append((image, container_name, timeout))
        await self.release.wait()
        return self.answer


async def test_fixed_modes_never_probe():
    for mode, expected in (("0", False), ("1", True)):
        runtime = SlowProbeRuntime(GpuProbe(True, "x"))
        decision = GpuDecision(mode, "img", runtime=runtime)
        decision.start()
        assert await decision.enabled() is expected
        assert runtime.calls == []


async def test_mode_2_probes_once_and_early_spawns_wait(caplog):
    runtime = SlowProbeRuntime(GpuProbe(False, "no runtime: the engine has no 'nvidia' runtime"))
    log = logging.getLogger("test-gpu")
    decision = GpuDecision("2", "nvidia/cuda:x", runtime=runtime, log=log)
    decision.start()  # as the hub does while loading its configuration
    early = [asyncio.create_task(decision.enabled()) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert not any(t.done() for t in early)  # waiting for the answer, not guessing
    with caplog.at_level(logging.INFO, logger="test-gpu"):
        runtime.release.set()
        assert await asyncio.gather(*early) == [False, False, False]
    assert await decision.enabled() is False
    assert runtime.calls == [("nvidia/cuda:x", "jupyterhub_nvidia_autodetect", 30.0)]
    lines = [r.getMessage() for r in caplog.records if "GPU detection" in r.getMessage()]
    assert len(lines) == 1 and "off - no runtime" in lines[0]

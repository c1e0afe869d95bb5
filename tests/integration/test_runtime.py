"""DockerRuntime against the real engine: results, error mapping, and no call on the loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from harness import LAB_IMAGE, RUN_PREFIX, engine

from stellars_hub.backends.docker.runtime import DockerRuntime
from stellars_hub.runtime import EngineUnavailable, NotFound, RuntimeConflict


@pytest.fixture
def runtime(docker_engine):
    return DockerRuntime()


async def test_ping_inspect_and_missing_container(runtime):
    await runtime.ping()
    assert await runtime.inspect_container(f"{RUN_PREFIX}-no-such-container") is None


async def test_volumes_report_existence_size_and_users(runtime):
    name = f"jupyterlab-{RUN_PREFIX}rt_home"
    engine().volumes.create(name)
    holder = engine().containers.create(LAB_IMAGE, ["true"], name=f"jupyterlab-{RUN_PREFIX}rt-holder",
                                        volumes={name: {"bind": "/x", "mode": "rw"}})
    try:
        info = await runtime.volumes([name, name + "-missing"], with_sizes=True)
        assert info[name].exists and info[name].used_by == (holder.name,)
        assert not info[name + "-missing"].exists
        with pytest.raises(RuntimeConflict):
            await runtime.remove_volume(name)
    finally:
        holder.remove(force=True)
    await runtime.remove_volume(name)
    with pytest.raises(NotFound):
        await runtime.remove_volume(name)


async def test_unreachable_engine_is_engine_unavailable():
    runtime = DockerRuntime(base_url="unix:///nonexistent/docker.sock")
    with pytest.raises(EngineUnavailable, match="not reachable"):
        await runtime.ping()


async def test_calls_run_off_the_event_loop(runtime):
    loop_thread = threading.current_thread()
    seen = []

    def slow_call(client):
        seen.append(threading.current_thread())
        time.sleep(1.0)  # stands for a slow engine call (a graceful stop)
        return client.ping()

    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    await asyncio.gather(runtime._run(slow_call), runtime._run(slow_call))
    tick_task.cancel()
    assert seen and all(t is not loop_thread for t in seen)
    assert ticks >= 10  # the loop kept running during both calls (they overlapped, too)

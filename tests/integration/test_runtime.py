"""DockerRuntime against the real engine: results, error mapping, and no call on the loop."""

from __future__ import annotations

import asyncio
import threading
import time

import docker
import pytest
from harness import LAB_IMAGE, RUN_PREFIX, engine, open_files_naming

from stellars_hub.backends.docker import cgroupstats
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
    holder = engine().containers.create(
        LAB_IMAGE, ["true"], name=f"jupyterlab-{RUN_PREFIX}rt-holder", volumes={name: {"bind": "/x", "mode": "rw"}}
    )
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


async def test_container_stats_of_many_labs_in_one_pass_without_the_engines_statistics(docker_engine, tmp_path):
    """Statistics of several containers come from their cgroup files: no statistics call to the
    engine (each holds a thread for a second), one listing of the running containers, figures
    that agree with the engine's own."""
    from enginegate import EngineGate

    client = engine()
    busy = client.containers.run(
        LAB_IMAGE,
        ["python3", "-c", "while True: pass"],
        entrypoint=[],
        detach=True,
        name=f"jupyterlab-{RUN_PREFIX}st-busy",
        network_mode="none",
    )
    idle = [
        client.containers.run(
            LAB_IMAGE,
            ["sleep", "300"],
            entrypoint=[],
            detach=True,
            network_mode="none",
            name=f"jupyterlab-{RUN_PREFIX}st-idle{i}",
            mem_limit="256m",
        )
        for i in range(2)
    ]
    gate = EngineGate(str(tmp_path / "engine.sock")).open()
    try:
        runtime = DockerRuntime(base_url=gate.docker_host)
        names = [busy.name] + [c.name for c in idle] + [f"jupyterlab-{RUN_PREFIX}st-missing"]
        first = await runtime.container_stats(names)
        time.sleep(1.5)
        second = await runtime.container_stats(names)
        assert gate.count(r"/stats") == 0
        assert gate.count(r"/containers/json") == 2  # the missing name is looked up again; nothing else
        assert first[names[-1]] is None and second[names[-1]] is None
        assert second[busy.name].cpu_percent > 20 and first[busy.name].cpu_percent > 20, (first, second)
        assert all(second[c.name].cpu_percent < 10 for c in idle)
        for c in idle:
            assert second[c.name].memory_limit_bytes == 256 * 2**20
        assert second[busy.name].memory_limit_bytes == client.info()["MemTotal"]
        engine_view = client.api.stats(busy.id, stream=False)
        usage = engine_view["memory_stats"]["usage"] - engine_view["memory_stats"]["stats"].get(
            "total_inactive_file", engine_view["memory_stats"]["stats"].get("inactive_file", 0)
        )
        assert abs(second[busy.name].memory_bytes - usage) < max(2 * 2**20, usage * 0.2), (second[busy.name], usage)

        # the files of each container stay open between rounds; a container that is gone gives
        # no figure and the reader lets go of its files (the kernel answers ENODEV through them)
        assert open_files_naming(idle[0].id) == cgroupstats.KEPT_PER_LAB
        idle[0].remove(force=True)
        third = await runtime.container_stats([busy.name, idle[0].name])
        assert third[idle[0].name] is None and third[busy.name].cpu_percent > 20
        assert open_files_naming(idle[0].id) == 0
    finally:
        gate.close()
        for c in [busy, *idle]:
            try:
                c.remove(force=True)
            except docker.errors.NotFound:
                pass

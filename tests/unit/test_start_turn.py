"""The Docker backend's start queue (JUPYTERHUB_LAB_STARTS_AT_ONCE) with a real asyncio semaphore:
a start takes a turn and gives it back, waits while the turns are taken (and says so), and goes
ahead without one after half its start timeout rather than fail."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

from stellars_hub.backends.docker.labhost import LabHost
from stellars_hub.backends.docker.startqueue import StartQueue


def _spawner(start_timeout: float):
    return SimpleNamespace(
        start_timeout=start_timeout,
        log=logging.getLogger("test"),
        user=SimpleNamespace(name="u"),
        waiting_for_turn=False,
    )


async def test_a_turn_is_taken_and_given_back():
    queue = StartQueue(1)
    async with queue.turn(_spawner(60)):
        assert queue._turns.locked()
    assert not queue._turns.locked()


async def test_a_start_waits_for_a_free_turn_and_is_counted_meanwhile():
    queue = StartQueue(1)
    first, second = _spawner(60), _spawner(60)
    order = []

    async def start(spawner, label):
        async with queue.turn(spawner):
            order.append(f"{label} in")
            await asyncio.sleep(0.2)
            order.append(f"{label} out")

    task1 = asyncio.ensure_future(start(first, "a"))
    await asyncio.sleep(0.05)
    task2 = asyncio.ensure_future(start(second, "b"))
    await asyncio.sleep(0.05)
    assert second.waiting_for_turn and queue.waiting == 1
    await asyncio.gather(task1, task2)
    assert order == ["a in", "a out", "b in", "b out"]
    assert queue.waiting == 0 and not second.waiting_for_turn


async def test_a_start_goes_ahead_without_a_turn_after_half_its_timeout():
    queue = StartQueue(1)
    await queue._turns.acquire()  # every turn taken, and never given back
    turn = queue.turn(_spawner(0.2))
    async with turn:
        assert not turn.held
    assert queue._turns.locked()  # nothing released that was not taken
    assert queue.waiting == 0


async def test_the_queue_is_sized_once_from_the_engines_cpus():
    asked = []

    async def cpus():
        asked.append(1)
        return 4

    host = LabHost()
    log = logging.getLogger("test")
    first = await host.start_queue(0, cpus, log)
    assert first.size == 3  # one CPU stays with the hub
    assert await host.start_queue(0, cpus, log) is first and asked == [1]
    assert (await LabHost().start_queue(2, cpus, log)).size == 2  # configured: the engine is not asked


async def test_two_hubs_keep_their_own_queues_and_ports():
    a, b = LabHost(), LabHost()
    port = a.free_host_port("jupyterlab-ann")
    assert a.host_ports == {"jupyterlab-ann": port} and b.host_ports == {}

"""The spawner's start turns (JUPYTERHUB_LAB_STARTS_AT_ONCE) with a real asyncio semaphore: a
start takes a turn and gives it back, waits while the turns are taken (and says so), and goes
ahead without one after half its start timeout rather than fail."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

from stellars_hub.spawner import StellarsSpawner, _StartTurn


def _spawner(start_timeout: float):
    return SimpleNamespace(start_timeout=start_timeout, log=logging.getLogger("test"),
                           user=SimpleNamespace(name="u"), _waiting_for_turn=False)


async def test_a_turn_is_taken_and_given_back():
    gate = asyncio.Semaphore(1)
    async with _StartTurn(gate, _spawner(60)) as _:
        assert gate.locked()
    assert not gate.locked()


async def test_a_start_waits_for_a_free_turn_and_is_counted_meanwhile():
    gate = asyncio.Semaphore(1)
    first, second = _spawner(60), _spawner(60)
    order = []

    async def start(spawner, label):
        async with _StartTurn(gate, spawner):
            order.append(f"{label} in")
            await asyncio.sleep(0.2)
            order.append(f"{label} out")

    task1 = asyncio.ensure_future(start(first, "a"))
    await asyncio.sleep(0.05)
    task2 = asyncio.ensure_future(start(second, "b"))
    await asyncio.sleep(0.05)
    assert second._waiting_for_turn and StellarsSpawner.waiting_to_start == 1
    await asyncio.gather(task1, task2)
    assert order == ["a in", "a out", "b in", "b out"]
    assert StellarsSpawner.waiting_to_start == 0 and not second._waiting_for_turn


async def test_a_start_goes_ahead_without_a_turn_after_half_its_timeout():
    gate = asyncio.Semaphore(1)
    await gate.acquire()  # every turn taken, and never given back
    turn = _StartTurn(gate, _spawner(0.2))
    async with turn:
        assert not turn.held
    assert gate.locked()  # nothing released that was not taken
    assert StellarsSpawner.waiting_to_start == 0

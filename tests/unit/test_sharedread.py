"""SharedReads: one engine read in flight per key for every caller, its answer kept for max_age,
failures not kept, forget() makes the next caller read again."""

from __future__ import annotations

import asyncio

import pytest

from stellars_hub.web.sharedread import SharedReads


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


async def test_concurrent_callers_share_one_read_and_reuse_it_until_it_ages():
    clock, reads = Clock(), []
    cache = SharedReads(max_age=10, clock=clock)

    async def read():
        reads.append(1)
        await asyncio.sleep(0.05)
        return len(reads)

    answers = await asyncio.gather(*(cache.get("lab", read) for _ in range(50)))
    assert answers == [1] * 50 and len(reads) == 1
    clock.now = 9.9
    assert await cache.get("lab", read) == 1 and len(reads) == 1
    clock.now = 10.0
    assert await cache.get("lab", read) == 2
    assert await cache.get("other", read) == 3  # keys are read apart


async def test_a_failed_read_fails_its_waiters_and_is_not_kept():
    cache, calls = SharedReads(max_age=10), []

    async def failing():
        calls.append(1)
        await asyncio.sleep(0.01)
        raise RuntimeError("engine down")

    results = await asyncio.gather(*(cache.get("k", failing) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results) and len(calls) == 1

    async def ok():
        return "fine"

    assert await cache.get("k", ok) == "fine"


async def test_forget_and_fresh_read_again_and_a_read_begun_before_forget_is_not_kept():
    cache, n = SharedReads(max_age=100), [0]
    gate = asyncio.Event()

    async def read():
        n[0] += 1
        mine = n[0]
        if mine == 1:
            await gate.wait()  # the first read is slow: the state changes meanwhile
        return mine

    slow = asyncio.ensure_future(cache.get("k", read))
    await asyncio.sleep(0)
    cache.forget("k")  # e.g. a restart: what the slow read saw is out of date
    assert await cache.get("k", read) == 2
    gate.set()
    assert await slow == 1  # its own caller still gets it
    assert await cache.get("k", read) == 2  # but it was not kept
    assert await cache.get("k", read, fresh=True) == 3


@pytest.mark.parametrize("max_age", [0])
async def test_max_age_zero_reads_every_time(max_age):
    cache, n = SharedReads(max_age=max_age), [0]

    async def read():
        n[0] += 1
        return n[0]

    assert [await cache.get("k", read) for _ in range(3)] == [1, 2, 3]

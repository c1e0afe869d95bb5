"""Labs starting at once on one engine (container start until the lab answers).

Starting is a lab's CPU-heavy moment (interpreter, imports); thirty at once share the CPUs and
all answer at the very end, queued they answer one batch after another, the last no later. One
per CPU but one: that CPU stays with the hub, its proxy (every user's lab traffic) and the
engine, which a lab's weight alone (JUPYTERHUB_LAB_CPU_SHARES) does not keep fast.
"""

from __future__ import annotations

import asyncio


class StartQueue:
    """Turns to start a lab; ``waiting`` counts the starts waiting for one."""

    def __init__(self, size: int):
        self.size = size
        self._turns = asyncio.Semaphore(size)
        self.waiting = 0

    def turn(self, spawner) -> StartTurn:
        return StartTurn(self, spawner)


class StartTurn:
    """Holds one turn for a start. A start waits at most half its start timeout (JupyterHub's
    clock runs while it waits), then goes ahead without a turn rather than fail."""

    def __init__(self, queue: StartQueue, spawner):
        self.queue, self.spawner = queue, spawner
        self.held = False

    async def __aenter__(self):
        turns = self.queue._turns
        if not turns.locked():  # a free turn is taken at once: this start never waited
            await turns.acquire()
            self.held = True
            return self
        self.queue.waiting += 1
        self.spawner.waiting_for_turn = True
        try:
            await asyncio.wait_for(turns.acquire(), self.spawner.start_timeout / 2)
            self.held = True
        except asyncio.TimeoutError:
            self.spawner.log.info("Starting %s's lab without waiting longer for a turn", self.spawner.user.name)
        finally:
            self.queue.waiting -= 1
            self.spawner.waiting_for_turn = False

    async def __aexit__(self, *exc):
        if self.held:
            self.queue._turns.release()

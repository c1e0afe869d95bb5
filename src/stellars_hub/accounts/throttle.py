"""Limits on password work: logins, signups and password changes per client address and per
user name (sliding window), and bcrypt in one worker thread so it never runs on the hub's
event loop. A burst of anonymous attempts then costs at most the pool's threads, and the 429
answers cost no hashing at all."""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor

import bcrypt

MAX_KEYS = 10_000  # random names or addresses cannot grow the tables without bound


class Window:
    """At most ``limit`` events per ``period`` seconds per key."""

    def __init__(self, limit: int, period: float = 60.0, clock=time.monotonic):
        self.limit, self.period, self._clock = limit, period, clock
        self._hits: OrderedDict[str, deque] = OrderedDict()

    def wait(self, key: str) -> int:
        """Seconds until ``key`` may act again (0: now; the event is then counted)."""
        now = self._clock()
        hits = self._hits.pop(key, None) or deque()
        while hits and now - hits[0] >= self.period:
            hits.popleft()
        self._hits[key] = hits  # most recently used last
        if len(self._hits) > MAX_KEYS:
            self._hits.popitem(last=False)
        if len(hits) >= self.limit:
            return max(1, math.ceil(self.period - (now - hits[0])))
        hits.append(now)
        return 0


class AuthThrottle:
    def __init__(self, per_address: int, per_name: int, period: float = 60.0, workers: int = 1):
        self.by_address = Window(per_address, period)
        self.by_name = Window(per_name, period)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
        # unknown names are checked against this, so they take as long as known ones
        self.decoy_hash = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt())

    def wait(self, address: str, name: str | None, known: bool = False) -> int:
        """0 when the attempt may go ahead, else the seconds to wait (Retry-After). Every attempt
        counts for its address; for its name only when the client is not ``known`` for that name
        (see lockout.py): guesses at a name from elsewhere never use up its owner's allowance."""
        wait = self.by_address.wait(address)
        if not wait and name and not known:
            wait = self.by_name.wait(name)
        return wait

    async def check(self, password: str, stored: bytes | None) -> bool:
        stored = stored if stored else self.decoy_hash
        if isinstance(stored, str):
            stored = stored.encode()
        loop = asyncio.get_running_loop()
        try:
            ok = await loop.run_in_executor(self._pool, bcrypt.checkpw, password.encode(), stored)
        except ValueError:  # a stored value that is no bcrypt hash
            return False
        return ok and stored is not self.decoy_hash

    async def hash(self, password: str) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: bcrypt.hashpw(password.encode(), bcrypt.gensalt()))

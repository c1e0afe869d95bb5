"""Sliding-window rate limit per key (user name)."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque

from .errors import RateLimited


class RateLimiter:
    def __init__(self, limit: int, period: float = 60.0, clock=time.monotonic):
        self.limit = limit
        self.period = period
        self._clock = clock
        self._hits: dict[str, deque] = defaultdict(deque)

    def hit(self, key: str) -> None:
        """Count one operation for ``key``, or raise RateLimited when over the limit."""
        now = self._clock()
        hits = self._hits[key]
        while hits and now - hits[0] >= self.period:
            hits.popleft()
        if len(hits) >= self.limit:
            wait = max(1, math.ceil(self.period - (now - hits[0])))
            raise RateLimited(
                f"too many operations for {key}: at most {self.limit} per {int(self.period)} s; try again in {wait} s",
                retry_after=wait,
            )
        hits.append(now)

"""Per-user operation locks: one destructive operation per user at a time, never queued."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from .errors import Busy


class UserLocks:
    def __init__(self):
        self._running: dict[str, str] = {}  # user name -> what is running

    def busy(self, username: str) -> str | None:
        return self._running.get(username)

    @asynccontextmanager
    async def exclusive(self, username: str, what: str):
        """Hold the user's slot for ``what``; raise Busy at once when it is taken.

        Check-and-set happens without an await in between, so two requests in the same event
        loop can never both get the slot.
        """
        current = self._running.get(username)
        if current is not None:
            raise Busy(f"{current} is already running for {username}; wait for it to finish")
        self._running[username] = what
        try:
            yield
        finally:
            self._running.pop(username, None)
            await asyncio.sleep(0)

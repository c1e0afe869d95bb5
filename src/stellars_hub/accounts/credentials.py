"""Plain generated passwords, in memory only, for a few minutes after an admin created the user.

Nothing here is ever written to disk or to a log: the admin's dialog (or an API client) fetches
them once the users exist; after ``ttl`` seconds they are gone and the password must be reset.
A timer on the hub's event loop drops each one when it expires, whether anyone asks or not.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass
class _Entry:
    password: str
    expires: float


class CredentialCache:
    def __init__(self, ttl: float = 300, clock=time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def __repr__(self) -> str:  # never show the passwords, even in a traceback or debugger
        return f"<CredentialCache {len(self._entries)} entries, ttl {self.ttl}s>"

    def _purge(self) -> None:
        now = self._clock()
        for name in [n for n, e in self._entries.items() if e.expires <= now]:
            del self._entries[name]

    def put(self, username: str, password: str) -> None:
        self._purge()
        self._entries[username] = _Entry(password, self._clock() + self.ttl)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a script, a unit test): purged on the next access
        loop.call_later(self.ttl, self._purge)

    def get(self, usernames: list[str]) -> list[dict]:
        """``[{"username", "password", "expires_in"}]`` for the names still cached, in order."""
        self._purge()
        now = self._clock()
        found = []
        for name in dict.fromkeys(usernames):
            entry = self._entries.get(name)
            if entry is not None:
                found.append(
                    {"username": name, "password": entry.password, "expires_in": max(0, round(entry.expires - now))}
                )
        return found

    def drop(self, username: str) -> None:
        self._entries.pop(username, None)

    def rename(self, old: str, new: str) -> None:
        entry = self._entries.pop(old, None)
        if entry is not None:
            self._entries[new] = entry

    def __len__(self) -> int:
        self._purge()
        return len(self._entries)

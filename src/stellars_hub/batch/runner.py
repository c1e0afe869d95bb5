"""One batch in the hub process: runs the per-server work with bounded concurrency, tells a
listener about every step, and can be cancelled (servers not begun yet are left alone).

A batch's ``users`` are its targets as labels (``ann`` for a default server, ``ann/gpu`` for a
named one); every event and result names the user and the server separately too."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .plan import PHASE, split

Listener = Callable[[dict], None]

# batch id -> Batch; finished batches stay briefly so a late GET can read their results
_batches: dict[str, Batch] = {}
KEEP_FINISHED = 600.0


@dataclass
class Batch:
    actor: str
    action: str
    users: list[str]
    id: str = field(default_factory=lambda: secrets.token_hex(6))
    results: dict[str, dict] = field(default_factory=dict)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    finished_at: float | None = None

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "actor": self.actor,
            "action": self.action,
            "users": self.users,
            "results": [self.results.get(u, {**who(u), "outcome": "pending"}) for u in self.users],
            "cancelled": self.cancelled.is_set(),
            "finished": self.finished_at is not None,
        }


def who(target: str) -> dict:
    """The fields that name a target in events and results."""
    user, server = split(target)
    return {"username": user, "server": server, "target": target}


def register(batch: Batch) -> Batch:
    now = time.monotonic()
    for key in [k for k, b in _batches.items() if b.finished_at and now - b.finished_at > KEEP_FINISHED]:
        del _batches[key]
    _batches[batch.id] = batch
    return batch


def find(batch_id: str) -> Batch | None:
    return _batches.get(batch_id)


async def wait_or_cancel(batch: Batch, seconds: float) -> bool:
    """Sleep ``seconds`` unless the batch is cancelled first; True when cancelled."""
    try:
        await asyncio.wait_for(batch.cancelled.wait(), seconds)
        return True
    except asyncio.TimeoutError:
        return batch.cancelled.is_set()


async def run(batch: Batch, work: Callable[[str], Awaitable[dict | None]], concurrency: int, emit: Listener) -> dict:
    """``work(target)`` does one server's action and raises on failure; returns the summary."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(name: str) -> None:
        async with gate:
            if batch.cancelled.is_set():
                result: dict[str, Any] = {**who(name), "outcome": "cancelled"}
            else:
                emit({"event": "progress", **who(name), "phase": PHASE[batch.action]})
                started = time.monotonic()
                try:
                    detail = await work(name) or {}
                    result = {**who(name), "outcome": "done", **detail}
                except Exception as exc:  # one server's failure never stops the others
                    message = getattr(exc, "log_message", None) or str(exc) or type(exc).__name__
                    result = {**who(name), "outcome": "failed", "error": message}
                result["seconds"] = round(time.monotonic() - started, 1)
            batch.results[name] = result
            emit({"event": "result", **result})

    await asyncio.gather(*(one(u) for u in batch.users))
    batch.finished_at = time.monotonic()
    counts = {k: sum(1 for r in batch.results.values() if r["outcome"] == k) for k in ("done", "failed", "cancelled")}
    return {"event": "finished", "id": batch.id, **counts}

"""A start refused before anything of the lab is made, for a reason that passes (the host is
full, the user's volumes are busy): the user's message, 503 and when to try again."""

from __future__ import annotations

from jupyterhub.spawner import SpawnException


def refused(message: str, reason: str, retry_after: int) -> SpawnException:
    refusal = SpawnException(message, reason=reason, status_code=503)
    refusal.headers = {"Retry-After": str(retry_after)}  # type: ignore[attr-defined]
    return refusal
